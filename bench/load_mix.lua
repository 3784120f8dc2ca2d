-- wrk script of the load benchmark (bench/load.py): many clients mixing reads, writes and uploads.
-- BENCH_LOAD_DATA names a Lua file returning {users = {{id =, token =, books = {...}}, ...},
-- cover = <path of a JPEG>}. Each request picks a user at random, then, by weight:
--   55 read one book, 20 read a page (plain, filtered or the second), 10 update a book's
--   description, 10 create a book with a cover (upload), 5 delete a book this thread created.

local boundary = "----bench-load-7f3a9c"
local threads = {}
local data, cover
local by_id = {}
local created = {}
local counter = 0

ok_count, client_errors, server_errors, reads, pages, updates, creates, deletes = 0, 0, 0, 0, 0, 0, 0, 0
last_error = ""

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  data = dofile(os.getenv("BENCH_LOAD_DATA"))
  local file = assert(io.open(data.cover, "rb"))
  cover = file:read("*a")
  file:close()
  for _, user in ipairs(data.users) do
    by_id[user.id] = user
  end
  math.randomseed(thread_number * 7919 + os.time())
end

local function form(fields, with_cover)
  local parts = {}
  for name, value in pairs(fields) do
    parts[#parts + 1] = "--" .. boundary .. '\r\nContent-Disposition: form-data; name="'
      .. name .. '"\r\n\r\n' .. value .. "\r\n"
  end
  if with_cover then
    parts[#parts + 1] = "--" .. boundary
      .. '\r\nContent-Disposition: form-data; name="cover_image"; filename="cover.jpg"'
      .. "\r\nContent-Type: image/jpeg\r\n\r\n" .. cover .. "\r\n"
  end
  parts[#parts + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(parts)
end

local function headers(user, with_form)
  local result = { ["Authorization"] = "Bearer " .. user.token }
  if with_form then
    result["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  end
  return result
end

local page_paths = { "/books/", "/books/?category=poetry", "/books/?page=2&sort=-created_at" }

function request()
  counter = counter + 1
  local user = data.users[math.random(#data.users)]
  local roll = math.random(100)
  if roll > 95 and #created > 0 then
    local book = table.remove(created)
    deletes = deletes + 1
    return wrk.format("DELETE", "/books/" .. book.id, headers(by_id[book.user]))
  elseif roll > 85 then
    creates = creates + 1
    local title = string.format("Load %d-%d-%d", thread_number, counter, math.random(1e9))
    local body = form({ title = title, category = "science", description = "Made under load" }, true)
    return wrk.format("POST", "/books/", headers(user, true), body)
  elseif roll > 75 then
    updates = updates + 1
    local book = user.books[math.random(#user.books)]
    local body = form({ description = "Edited under load " .. counter }, false)
    return wrk.format("PUT", "/books/" .. book, headers(user, true), body)
  elseif roll > 55 then
    pages = pages + 1
    return wrk.format("GET", page_paths[math.random(#page_paths)], headers(user))
  end
  reads = reads + 1
  return wrk.format("GET", "/books/" .. user.books[math.random(#user.books)], headers(user))
end

function response(status, response_headers, body)
  if status < 400 then
    ok_count = ok_count + 1
    if status == 201 then
      local id = body:match('"_id":%s*"(%x+)"')
      local owner = body:match('"user_id":%s*"(%x+)"')
      if id and owner then
        created[#created + 1] = { id = id, user = owner }
      end
    end
  elseif status < 500 then
    client_errors = client_errors + 1
    last_error = status .. " " .. body:sub(1, 160)
  else
    server_errors = server_errors + 1
    last_error = status .. " " .. body:sub(1, 160)
  end
end

function done(summary, latency, requests)
  local totals = { ok = 0, client = 0, server = 0, reads = 0, pages = 0, updates = 0,
                   creates = 0, deletes = 0 }
  local last = ""
  for _, thread in ipairs(threads) do
    totals.ok = totals.ok + thread:get("ok_count")
    totals.client = totals.client + thread:get("client_errors")
    totals.server = totals.server + thread:get("server_errors")
    totals.reads = totals.reads + thread:get("reads")
    totals.pages = totals.pages + thread:get("pages")
    totals.updates = totals.updates + thread:get("updates")
    totals.creates = totals.creates + thread:get("creates")
    totals.deletes = totals.deletes + thread:get("deletes")
    if thread:get("last_error") ~= "" then
      last = thread:get("last_error")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, '
      .. '"max": %d, "ok": %d, "client_errors": %d, "server_errors": %d, "reads": %d, '
      .. '"pages": %d, "updates": %d, "creates": %d, "deletes": %d, "last_error": "%s"}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, totals.ok, totals.client,
    totals.server, totals.reads, totals.pages, totals.updates, totals.creates, totals.deletes,
    (last:gsub('[%c"\\]', "?"))
  ))
end
