import JobQueue
import RedisClient

/// The Lua scripts behind `RedisJobStore`. Each change of a job is one script, so the job's hash,
/// its queue's streams and its status indexes never disagree, whichever worker dies when.
///
/// Keys, for a queue `q` (one Redis, or a primary with replicas; the scripts name keys they
/// derive, so Redis Cluster is not supported):
/// - `rahat:jobs:job:<id>` — the job (a hash);
/// - `rahat:jobs:q:ready:high` / `:ready:normal` — streams of ready jobs, read by the consumer
///   group `workers` with `NOACK`: the script that reads an entry marks its job active and locked
///   in the same step, so the job's lock, not a pending entry, is what brings it back if its
///   worker dies, and nothing is acknowledged or deleted per job; read entries are trimmed
///   (`XTRIM MINID`) once a second;
/// - `rahat:jobs:q:locks` — running jobs by when their lock runs out: a job whose worker died is
///   found there exactly when its lock ends (rather than by scanning pending entries with
///   `XAUTOCLAIM`), and made ready again; it is also the index of active jobs;
/// - `rahat:jobs:q:delayed` — jobs waiting for their delay or back-off, by when they are due;
/// - `rahat:jobs:q:index`, `:status:<status>` — the listing, by creation time (every status but
///   `active`, which is listed from the locks);
/// - `rahat:jobs:q:finished` — completed and failed jobs, by when they ended (for pruning);
/// - `rahat:jobs:q:dead` — the dead letters: one entry per job that failed its last attempt;
/// - `rahat:jobs:queues` — every queue ever used.
///
/// Times are the Redis server's clock, so workers on hosts whose clocks differ agree on locks.
/// `rahat:jobs:` is the key prefix in service; tests give each store its own.
struct RedisJobScripts: Sendable {
    let keyPrefix: String
    /// The consumer group every worker reads ready jobs in.
    static let group = "workers"

    func jobKey(_ id: String) -> String { "\(keyPrefix)job:\(id)" }
    func queuePrefix(_ queue: String) -> String { "\(keyPrefix)\(queue):" }
    func readyStream(_ queue: String, _ priority: JobPriority) -> String {
        "\(queuePrefix(queue))ready:\(priority.rawValue)"
    }
    var queues: String { "\(keyPrefix)queues" }
    /// Where a job's changes are announced (its status, or `progress`), for live progress streams.
    func changesChannel(_ id: String) -> String { "\(keyPrefix)changed:\(id)" }

    let enqueue: RedisScript
    let claim: RedisScript
    let extendLock: RedisScript
    let progress: RedisScript
    let complete: RedisScript
    let fail: RedisScript
    let release: RedisScript
    let retry: RedisScript
    let list: RedisScript
    let listActive: RedisScript

    /// The scripts for keys under `keyPrefix` (letters, digits, `:`, `-`, `_` only: it is written
    /// into the Lua source).
    init(keyPrefix: String = "rahat:jobs:") {
        self.keyPrefix = keyPrefix
        let prelude = Self.prelude(keyPrefix: keyPrefix, group: Self.group)
        func script(_ body: String) -> RedisScript { RedisScript(prelude + body) }
        enqueue = script(Self.enqueueBody(queues: "\(keyPrefix)queues"))
        claim = script(Self.claimBody(group: Self.group))
        extendLock = script(Self.extendLockBody)
        progress = script(Self.progressBody)
        complete = script(Self.completeBody)
        fail = script(Self.failBody)
        release = script(Self.releaseBody)
        retry = script(Self.retryBody)
        list = script(Self.listBody)
        listActive = script(Self.listActiveBody)
    }

    private static func prelude(keyPrefix: String, group: String) -> String {
        """
        local function now()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        local function jobKey(id) return '\(keyPrefix)job:' .. id end
        local function queuePrefix(queue) return '\(keyPrefix)' .. queue .. ':' end
        -- Active jobs have no status index of their own: the locks are one.
        local function move(p, id, from, to, score)
          if from ~= 'active' then redis.call('ZREM', p .. 'status:' .. from, id) end
          if to ~= 'active' then redis.call('ZADD', p .. 'status:' .. to, score, id) end
        end
        local function announce(id, what) redis.call('PUBLISH', '\(keyPrefix)changed:' .. id, what) end
        -- The entry that stands behind a ready job; older entries of the job are passed over.
        local function makeReady(p, key, id, priority)
          local entry = redis.call('XADD', p .. 'ready:' .. priority, '*', 'job', id)
          redis.call('HSET', key, 'status', 'waiting', 'entry', entry)
        end
        local function field(fields, name)
          for i = 1, #fields, 2 do
            if fields[i] == name then return fields[i + 1] end
          end
          return nil
        end

        """
    }

    /// ARGV: count, then per job id, queue, name, payload, priority, maxAttempts, backoffMs,
    /// delayMs, owner ('' for none), trace ('' for none). Returns how many were new.
    private static func enqueueBody(queues: String) -> String {
        """
        local t = now()
        local created = 0
        local known = {}
        for i = 0, tonumber(ARGV[1]) - 1 do
          local b = 1 + i * 10
          local id, queue, priority = ARGV[b + 1], ARGV[b + 2], ARGV[b + 5]
          local key = jobKey(id)
          if redis.call('EXISTS', key) == 0 then
            local p = queuePrefix(queue)
            local delay = tonumber(ARGV[b + 8])
            local fields = {'id', id, 'queue', queue, 'name', ARGV[b + 3], 'payload', ARGV[b + 4],
              'priority', priority, 'attempts', 0, 'maxAttempts', ARGV[b + 6], 'backoffMs', ARGV[b + 7],
              'progress', 0, 'createdAt', t, 'runAt', t + delay}
            if ARGV[b + 9] ~= '' then
              fields[#fields + 1] = 'owner'
              fields[#fields + 1] = ARGV[b + 9]
              redis.call('ZADD', p .. 'owner:' .. ARGV[b + 9], t, id)
            end
            if ARGV[b + 10] ~= '' then
              fields[#fields + 1] = 'trace'
              fields[#fields + 1] = ARGV[b + 10]
            end
            local status = 'waiting'
            if delay > 0 then
              status = 'delayed'
              redis.call('ZADD', p .. 'delayed', t + delay, id)
            else
              fields[#fields + 1] = 'entry'
              fields[#fields + 1] = redis.call('XADD', p .. 'ready:' .. priority, '*', 'job', id)
            end
            fields[#fields + 1] = 'status'
            fields[#fields + 1] = status
            redis.call('HSET', key, unpack(fields))
            redis.call('ZADD', p .. 'index', t, id)
            redis.call('ZADD', p .. 'status:' .. status, t, id)
            if not known[queue] then
              redis.call('SADD', '\(queues)', queue)
              known[queue] = true
            end
            created = created + 1
          end
        end
        return created
        """
    }

    /// KEYS[1]: the queue's prefix. ARGV: consumer, lease, lockMs, limit, retentionMs.
    /// Returns {'jobs', {job fields…}…}, or {'idle', server time, when a job may next become ready or ''}.
    private static func claimBody(group: String) -> String {
        """
        local p = KEYS[1]
        local t = now()
        local lock = tonumber(ARGV[3])
        -- Jobs whose worker stopped renewing its lock (it died, or hangs) are ready again; the
        -- attempt they were on stays counted.
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'locks', '-inf', '(' .. t, 'LIMIT', 0, 200)) do
          redis.call('ZREM', p .. 'locks', id)
          local key = jobKey(id)
          local j = redis.call('HMGET', key, 'status', 'createdAt', 'priority')
          if j[1] == 'active' then
            redis.call('HDEL', key, 'lockedBy', 'lockedUntil')
            makeReady(p, key, id, j[3])
            move(p, id, 'active', 'waiting', j[2])
            announce(id, 'waiting')
          end
        end
        -- At most once a second per queue: ended jobs past their retention go, and so do the
        -- ready entries already read (everything before the group's last delivered entry: they
        -- are read in order, and each one's job was marked active when it was read).
        if redis.call('SET', p .. 'pruned', '1', 'NX', 'PX', 1000) then
          local ended = redis.call('ZRANGEBYSCORE', p .. 'finished', '-inf', t - tonumber(ARGV[5]), 'LIMIT', 0, 200)
          for _, id in ipairs(ended) do
            local owner = redis.call('HGET', jobKey(id), 'owner')
            if owner then redis.call('ZREM', p .. 'owner:' .. owner, id) end
            redis.call('DEL', jobKey(id))
            redis.call('ZREM', p .. 'finished', id)
            redis.call('ZREM', p .. 'index', id)
            redis.call('ZREM', p .. 'status:completed', id)
            redis.call('ZREM', p .. 'status:failed', id)
          end
          for _, priority in ipairs({'high', 'normal'}) do
            local stream = p .. 'ready:' .. priority
            local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', stream)
            if ok then
              for _, g in ipairs(groups) do
                if field(g, 'name') == '\(group)' then
                  redis.call('XTRIM', stream, 'MINID', '~', field(g, 'last-delivered-id'))
                end
              end
            end
          end
        end
        -- Delayed jobs that are due become ready.
        for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', t, 'LIMIT', 0, 200)) do
          redis.call('ZREM', p .. 'delayed', id)
          local key = jobKey(id)
          local j = redis.call('HMGET', key, 'status', 'priority', 'createdAt')
          if j[1] == 'delayed' then
            makeReady(p, key, id, j[2])
            move(p, id, 'delayed', 'waiting', j[3])
            announce(id, 'waiting')
          end
        end
        -- Up to `count` new entries of one priority's stream, in one read.
        local function read(priority, count)
          local stream = p .. 'ready:' .. priority
          local ok, reply = pcall(redis.call, 'XREADGROUP', 'GROUP', '\(group)', ARGV[1], 'COUNT', count,
            'NOACK', 'STREAMS', stream, '>')
          if not ok then
            if not string.find(tostring(reply.err or reply), 'NOGROUP') then error(reply) end
            redis.call('XGROUP', 'CREATE', stream, '\(group)', '0', 'MKSTREAM')
            reply = redis.call('XREADGROUP', 'GROUP', '\(group)', ARGV[1], 'COUNT', count, 'NOACK',
              'STREAMS', stream, '>')
          end
          if not reply then return {} end
          return reply[1][2]
        end
        local claimed = {}
        local limit = tonumber(ARGV[4])
        -- An entry its job no longer stands behind (the job was removed, or made ready again
        -- since) is passed over.
        local function take(entry)
          local id = field(entry[2], 'job')
          local key = jobKey(id)
          local fields = redis.call('HGETALL', key)
          local job = {}
          for i = 1, #fields, 2 do job[fields[i]] = fields[i + 1] end
          if job.status ~= 'waiting' or job.entry ~= entry[1] then return end
          local attempts = tonumber(job.attempts) + 1
          redis.call('HSET', key, 'status', 'active', 'attempts', attempts, 'lockedBy', ARGV[2],
            'lockedUntil', t + lock, 'startedAt', t)
          if job.error then redis.call('HDEL', key, 'error') end
          redis.call('ZADD', p .. 'locks', t + lock, id)
          move(p, id, 'waiting', 'active', job.createdAt)
          announce(id, 'active')
          job.status, job.attempts, job.lockedBy, job.lockedUntil, job.startedAt, job.error =
            'active', tostring(attempts), ARGV[2], tostring(t + lock), tostring(t), nil
          local out = {}
          for name, value in pairs(job) do
            out[#out + 1] = name
            out[#out + 1] = value
          end
          claimed[#claimed + 1] = out
        end
        -- High before normal; entries whose job moved on fill no slot, so read again for those,
        -- a few times at most.
        local rounds = 0
        while #claimed < limit and rounds < 4 do
          rounds = rounds + 1
          local read_any = false
          for _, priority in ipairs({'high', 'normal'}) do
            local want = limit - #claimed
            if want <= 0 then break end
            for _, entry in ipairs(read(priority, want)) do
              read_any = true
              take(entry)
            end
          end
          if not read_any then break end
        end
        if #claimed > 0 then return {'jobs', claimed} end
        -- When to look again without being woken: the next delayed job, or the next lock to run out.
        local due = redis.call('ZRANGE', p .. 'delayed', 0, 0, 'WITHSCORES')[2]
        local lockEnds = redis.call('ZRANGE', p .. 'locks', 0, 0, 'WITHSCORES')[2]
        if lockEnds and (not due or tonumber(lockEnds) < tonumber(due)) then due = lockEnds end
        return {'idle', t, due or ''}
        """
    }

    /// KEYS[1]: the job. ARGV: lease, lockMs. 1 when the lock was extended.
    private static let extendLockBody =
        """
        local j = redis.call('HMGET', KEYS[1], 'status', 'lockedBy', 'queue', 'id')
        if j[1] ~= 'active' or j[2] ~= ARGV[1] then return 0 end
        local until_ = now() + tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'lockedUntil', until_)
        redis.call('ZADD', queuePrefix(j[3]) .. 'locks', until_, j[4])
        return 1
        """

    /// KEYS[1]: the job. ARGV: lease, percent, has message ('1'/'0'), message.
    private static let progressBody =
        """
        local j = redis.call('HMGET', KEYS[1], 'status', 'lockedBy', 'id')
        if j[1] ~= 'active' or j[2] ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'progress', ARGV[2])
        if ARGV[3] == '1' then
          redis.call('HSET', KEYS[1], 'progressMessage', ARGV[4])
        else
          redis.call('HDEL', KEYS[1], 'progressMessage')
        end
        announce(j[3], 'progress')
        return 1
        """

    /// ARGV: (job id, lease, has result ('1'/'0'), result) for each job. Per job, 1 when completed.
    /// Jobs a worker finishes while the previous completion is on its way go in one call. The
    /// lease fields stay on a completed job: nothing reads them once it is no longer active.
    private static let completeBody =
        """
        local t = now()
        local done = {}
        for i = 1, #ARGV, 4 do
          local key = jobKey(ARGV[i])
          local j = redis.call('HMGET', key, 'status', 'lockedBy', 'queue', 'createdAt', 'id')
          if j[1] ~= 'active' or j[2] ~= ARGV[i + 1] then
            done[#done + 1] = 0
          else
            local p = queuePrefix(j[3])
            redis.call('ZREM', p .. 'locks', j[5])
            if ARGV[i + 2] == '1' then
              redis.call('HSET', key, 'status', 'completed', 'progress', 100, 'finishedAt', t, 'result', ARGV[i + 3])
            else
              redis.call('HSET', key, 'status', 'completed', 'progress', 100, 'finishedAt', t)
            end
            move(p, j[5], 'active', 'completed', j[4])
            redis.call('ZADD', p .. 'finished', t, j[5])
            announce(j[5], 'completed')
            done[#done + 1] = 1
          end
        end
        return done
        """

    /// KEYS[1]: the job. ARGV: lease, error, jitter (0.5–1: the share of the back-off to wait),
    /// retrying ('1', or '0' to fail for good). Returns the new status, or nil when the job is not
    /// the lease's.
    private static let failBody =
        """
        local key = KEYS[1]
        local j = redis.call('HMGET', key, 'status', 'lockedBy', 'queue', 'createdAt', 'id',
          'attempts', 'maxAttempts', 'backoffMs', 'name')
        if j[1] ~= 'active' or j[2] ~= ARGV[1] then return false end
        local t = now()
        local p = queuePrefix(j[3])
        local id = j[5]
        redis.call('ZREM', p .. 'locks', id)
        redis.call('HDEL', key, 'lockedBy', 'lockedUntil')
        redis.call('HSET', key, 'error', ARGV[2])
        if ARGV[4] ~= '1' or tonumber(j[6]) >= tonumber(j[7]) then
          local dead = redis.call('XADD', p .. 'dead', 'MAXLEN', '~', 100000, '*', 'job', id, 'name', j[9],
            'attempts', j[6], 'error', ARGV[2])
          redis.call('HSET', key, 'status', 'failed', 'finishedAt', t, 'dead', dead)
          move(p, id, 'active', 'failed', j[4])
          redis.call('ZADD', p .. 'finished', t, id)
          announce(id, 'failed')
          return 'failed'
        end
        local backoff = math.min(tonumber(j[8]) * 2 ^ math.min(tonumber(j[6]) - 1, 16), 3600000)
        local runAt = t + math.floor(backoff * tonumber(ARGV[3]))
        redis.call('HSET', key, 'status', 'delayed', 'runAt', runAt)
        redis.call('ZADD', p .. 'delayed', runAt, id)
        move(p, id, 'active', 'delayed', j[4])
        announce(id, 'delayed')
        return 'delayed'
        """

    /// KEYS[1]: the job. ARGV: lease. 1 when given back (its attempt uncounted).
    private static let releaseBody =
        """
        local key = KEYS[1]
        local j = redis.call('HMGET', key, 'status', 'lockedBy', 'queue', 'createdAt', 'id', 'priority')
        if j[1] ~= 'active' or j[2] ~= ARGV[1] then return 0 end
        local p = queuePrefix(j[3])
        redis.call('ZREM', p .. 'locks', j[5])
        redis.call('HDEL', key, 'lockedBy', 'lockedUntil')
        redis.call('HINCRBY', key, 'attempts', -1)
        redis.call('HSET', key, 'runAt', now())
        makeReady(p, key, j[5], j[6])
        move(p, j[5], 'active', 'waiting', j[4])
        announce(j[5], 'waiting')
        return 1
        """

    /// KEYS[1]: the job. 1 when a failed job went back to its queue with fresh attempts.
    private static let retryBody =
        """
        local key = KEYS[1]
        local j = redis.call('HMGET', key, 'status', 'queue', 'createdAt', 'id', 'priority', 'dead')
        if j[1] ~= 'failed' then return 0 end
        local p = queuePrefix(j[2])
        if j[6] then redis.call('XDEL', p .. 'dead', j[6]) end
        redis.call('HDEL', key, 'error', 'finishedAt', 'result', 'progressMessage', 'dead', 'startedAt')
        redis.call('HSET', key, 'attempts', 0, 'progress', 0, 'runAt', now())
        makeReady(p, key, j[4], j[5])
        redis.call('ZREM', p .. 'finished', j[4])
        move(p, j[4], 'failed', 'waiting', j[3])
        announce(j[4], 'waiting')
        return 1
        """

    /// KEYS[1]: an index. ARGV: limit, the anchor's creation time and id ('' for the first page),
    /// a status to keep only ('' for all). The jobs after the anchor, newest first, each as its
    /// hash's fields.
    private static let listBody =
        """
        local limit = tonumber(ARGV[1])
        local anchored = ARGV[2] ~= ''
        local top = '+inf'
        if anchored then top = ARGV[2] end
        local out = {}
        local offset = 0
        while #out < limit do
          local page = redis.call('ZREVRANGEBYSCORE', KEYS[1], top, '-inf', 'WITHSCORES', 'LIMIT', offset, limit)
          if #page == 0 then break end
          for i = 1, #page, 2 do
            local id, score = page[i], tonumber(page[i + 1])
            if not anchored or score < tonumber(ARGV[2]) or id < ARGV[3] then
              local fields = redis.call('HGETALL', jobKey(id))
              if #fields > 0 and (ARGV[4] == '' or field(fields, 'status') == ARGV[4]) then
                out[#out + 1] = fields
              end
              if #out >= limit then break end
            end
          end
          offset = offset + limit
        end
        return out
        """

    /// KEYS[1]: a queue's locks. ARGV: limit, the anchor's creation time and id ('' for the first
    /// page). The active jobs after the anchor, newest first. The locks are ordered by when they
    /// run out, not by creation, so all are read: there are as many as jobs running, no more.
    private static let listActiveBody =
        """
        local anchored = ARGV[2] ~= ''
        local found = {}
        for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          local fields = redis.call('HGETALL', jobKey(id))
          if field(fields, 'status') == 'active' then
            local created = tonumber(field(fields, 'createdAt'))
            if not anchored or created < tonumber(ARGV[2]) or (created == tonumber(ARGV[2]) and id < ARGV[3]) then
              found[#found + 1] = {created, id, fields}
            end
          end
        end
        table.sort(found, function(a, b)
          if a[1] ~= b[1] then return a[1] > b[1] end
          return a[2] > b[2]
        end)
        local out = {}
        for i = 1, math.min(#found, tonumber(ARGV[1])) do out[i] = found[i][3] end
        return out
        """
}
