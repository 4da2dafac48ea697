-- Scenarios D, G and T's D: every request carries a fresh pre-signed DAuth token; no token is
-- sent twice.
--
--   wrk -t N ... -s rotate+report.lua URL -- TOKENS_FILE N [START [LIMIT]]
--
-- Only lines START .. START+LIMIT-1 of TOKENS_FILE (one token a line; START defaults to 0,
-- LIMIT to the rest of the file) are used, so that the phases of one measurement (warm-up,
-- measured interval, filling the replay window) can each take the lines the one before left.
-- Thread k of N takes lines START+k, START+k+N, ... and formats all its requests up front, so a
-- request costs the load generator one table lookup. Once a thread runs out it sends a request
-- to a path that does not exist (404, so it is counted as an error and bench/run notices)
-- instead of reusing a token. report.lua prints how many were used and the first line a next
-- phase may take (tokens_next).
local counter = 0
threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs = {}
local spare
next_i, available, first, stride = 0, 0, 0, 1

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  first = tonumber(args[3] or "0")
  local limit = tonumber(args[4] or "-1")
  stride = nthreads
  local k = 0
  for line in io.lines(file) do
    if k >= first then
      if limit >= 0 and k >= first + limit then
        break
      end
      if (k - first) % nthreads == id and #line > 0 then
        available = available + 1
        reqs[available] = wrk.format(nil, nil, { ["DAuth"] = line })
      end
    end
    k = k + 1
  end
  spare = wrk.format(nil, "/bench-tokens-exhausted")
end

function request()
  next_i = next_i + 1
  if next_i <= available then
    return reqs[next_i]
  end
  return spare
end
