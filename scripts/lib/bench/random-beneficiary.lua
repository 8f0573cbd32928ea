-- wrk script: GET /v1/beneficiaries/{id} for ids picked at random from $IDS_FILE, as $TOKEN.
-- With $WRITE_EVERY at n above 0, every n-th request of a connection registers a new person
-- instead (POST /v1/beneficiaries); with $LIST_EVERY at m, every m-th of the others reads a page
-- of the list (GET /v1/beneficiaries?limit=20), which no cache answers: the mixed load of
-- scripts/rolling-restart and scripts/blue-green. With $PAUSE_MS above 0 each connection waits that long after each answer
-- (a paced load).
-- RESULT reports requests without an answer (errors: connect, read, write, timeout) apart from
-- answers with an error status (status_errors), which the floor measurement asks for on purpose
-- (ids the service refuses unread); failed counts both, and statuses counts answers by status.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do
    ids[#ids + 1] = line
end
local token = os.getenv("TOKEN")
local headers = { ["Authorization"] = "Bearer " .. token }
local writeHeaders = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local pause = tonumber(os.getenv("PAUSE_MS") or "0") or 0
local writeEvery = tonumber(os.getenv("WRITE_EVERY") or "0") or 0
local listEvery = tonumber(os.getenv("LIST_EVERY") or "0") or 0
local threads = {}

function setup(thread)
    thread:set("id", #threads)
    threads[#threads + 1] = thread
end

function init(args)
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
    statuses = {}
    sent = 0
end

function request()
    sent = sent + 1
    if writeEvery > 0 and sent % writeEvery == 0 then
        local body = string.format(
            '{"name":"Load %d-%d-%d","birthDate":"1990-02-03","gender":"female"}', id, sent, math.random(1e9))
        return wrk.format("POST", "/v1/beneficiaries", writeHeaders, body)
    end
    if listEvery > 0 and sent % listEvery == 0 then
        return wrk.format("GET", "/v1/beneficiaries?limit=20", headers)
    end
    return wrk.format("GET", "/v1/beneficiaries/" .. ids[math.random(#ids)], headers)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

if pause > 0 then
    function delay()
        return pause
    end
end

function done(summary, latency, requests)
    local byStatus = {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            byStatus[status] = (byStatus[status] or 0) + count
        end
    end
    local parts = {}
    local notOK = 0
    for status, count in pairs(byStatus) do
        parts[#parts + 1] = string.format("%d:%d", status, count)
        if status < 200 or status > 299 then
            notOK = notOK + count
        end
    end
    table.sort(parts)
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    io.write(string.format(
        "RESULT requests=%d errors=%d status_errors=%d failed=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d statuses=%s\n",
        summary.requests, errors, summary.errors.status, errors + notOK, latency:percentile(50),
        latency:percentile(90), latency:percentile(99), latency.max, table.concat(parts, ",")))
end
