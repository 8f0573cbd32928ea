-- wrk script: GET /v1/beneficiaries/{id} for ids picked at random from $IDS_FILE, as $TOKEN.
-- RESULT reports failed requests (connect, read, write, timeout) apart from answers with an error
-- status, which the floor measurement asks for on purpose (ids the service refuses unread).
-- With $PAUSE_MS above 0 each connection waits that long after each answer (a paced load).
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do
    ids[#ids + 1] = line
end
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
local pause = tonumber(os.getenv("PAUSE_MS") or "0") or 0

function init(args)
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
    return wrk.format("GET", "/v1/beneficiaries/" .. ids[math.random(#ids)], headers)
end

if pause > 0 then
    function delay()
        return pause
    end
end

function done(summary, latency, requests)
    io.write(string.format(
        "RESULT requests=%d errors=%d status_errors=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
        summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
            + summary.errors.timeout, summary.errors.status,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
