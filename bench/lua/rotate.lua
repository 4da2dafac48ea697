-- Scenario D: every request carries a fresh pre-signed DAuth token; no token is sent twice.
--
--   wrk -t N ... -s rotate+report.lua URL -- TOKENS_FILE N
--
-- Thread k of N takes lines k, k+N, k+2N, ... of TOKENS_FILE (one token a line) and formats
-- all its requests up front, so a request costs the load generator one table lookup. Once a
-- thread runs out it sends a request to a path that does not exist (404, so it is counted as
-- an error and bench/run notices) instead of reusing a token.
local counter = 0
threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs = {}
local spare
next_i, available = 0, 0

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  local k = 0
  for line in io.lines(file) do
    if k % nthreads == id and #line > 0 then
      available = available + 1
      reqs[available] = wrk.format(nil, nil, { ["DAuth"] = line })
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
