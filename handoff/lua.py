"""The Lua scripts the store runs (handoff/store.py): each is one atomic round trip to Redis.

Key names come from handoff/keyspace.py: the scripts get them as KEYS, or as `%s` templates in
ARGV for the conversation whose id is only known inside the script. Every write also appends its
outbox entry to `log:events` in the same script (see handoff/store.py).

A stored message is JSON that starts with `{"seq":<n>,"lang":<lang or null>,` followed by the
caller's fields (the caller sends them as a JSON object without `seq` and `lang`). `seq` is the
list position, so ids never have gaps; keeping `lang` in a known place lets the bot-turn script
record the detected language without decoding and re-encoding the message (Lua's cjson would
round the `at` times).
"""

from __future__ import annotations

# append(conv, msgs, clients, events, active, cid, client_id, lang, body, now) -> seq, stored, fresh
# A client_id seen before returns the message stored then, and fresh = 0.
_APPEND_FN = """
local function append(conv, msgs, clients, events, active, cid, client_id, lang, body, now)
  if client_id ~= '' then
    local seen = redis.call('HGET', clients, client_id)
    if seen then return tonumber(seen), redis.call('LINDEX', msgs, tonumber(seen) - 1), 0 end
  end
  local seq = redis.call('LLEN', msgs) + 1
  local lang_json = 'null'
  if lang and lang ~= '' then lang_json = cjson.encode(lang) end
  local rest = string.sub(body, 2)
  if rest ~= '}' then rest = ',' .. rest end
  local stored = '{"seq":' .. seq .. ',"lang":' .. lang_json .. rest
  redis.call('RPUSH', msgs, stored)
  if client_id ~= '' then redis.call('HSET', clients, client_id, seq) end
  redis.call('HSET', conv, 'updated_at', now, 'last_seq', seq)
  redis.call('ZADD', active, now, cid)
  redis.call('XADD', events, '*', 'type', 'message', 'cid', cid,
             'vid', redis.call('HGET', conv, 'visitor_id') or '', 'at', now, 'body', stored)
  return seq, stored, 1
end
"""

# open(open_key, visitor_key, convs_key, events, vid, new_cid, conv_template, now, language)
#   -> cid, created
# The visitor's open conversation, or a new one in state `bot` in `language` (when '': the
# visitor's chosen language).
_OPEN_FN = """
local function open(open_key, visitor_key, convs_key, events, vid, new_cid, conv_template, now, language)
  local cid = redis.call('GET', open_key)
  if cid then
    local state = redis.call('HGET', string.format(conv_template, cid), 'state')
    if state and state ~= 'closed' then return cid, 0 end
  end
  cid = new_cid
  if language == '' then language = redis.call('HGET', visitor_key, 'language') or '' end
  redis.call('SET', open_key, cid)
  redis.call('PERSIST', visitor_key)  -- a visitor with a conversation is kept (see EXPIRE_ANONYMOUS)
  redis.call('HSET', string.format(conv_template, cid), 'id', cid, 'visitor_id', vid, 'state', 'bot',
             'language', language, 'created_at', now, 'updated_at', now, 'last_seq', '0')
  redis.call('RPUSH', convs_key, cid)
  local created = '{"state":"bot","language":' .. cjson.encode(language) .. ',"created_at":' .. now .. '}'
  redis.call('XADD', events, '*', 'type', 'conversation', 'cid', cid, 'vid', vid, 'at', now, 'body', created)
  return cid, 1
end
"""

# KEYS: open pointer, visitor hash, visitor's conversations, events, active
# ARGV: vid, new_cid, conv_template, now, language ('' = the visitor's chosen one)
# -> {cid, created, conversation hash as a flat list}
OPEN_OR_CREATE = (
    _OPEN_FN
    + """
local cid, created = open(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return {cid, created, redis.call('HGETALL', string.format(ARGV[3], cid))}
"""
)

# The visitor hot path in one round trip: open (or create) the conversation, store the message in
# the conversation's language, and return everything the service needs next.
# KEYS: open pointer, visitor hash, visitor's conversations, events, active
# ARGV: vid, new_cid, conv_template, msgs_template, clients_template, now, client_id, body
#   (body: the message's JSON without seq, lang and conversation_id, which the script adds)
# -> {cid, created, seq, stored, fresh, conversation hash (flat), visitor's chosen language}
VISITOR_MESSAGE = (
    _OPEN_FN
    + _APPEND_FN
    + """
local vid, now = ARGV[1], ARGV[6]
local cid, created = open(KEYS[1], KEYS[2], KEYS[3], KEYS[4], vid, ARGV[2], ARGV[3], now, '')
local conv = string.format(ARGV[3], cid)
local cap = tonumber(ARGV[9] or '0')
if cap > 0 and redis.call('HEXISTS', string.format(ARGV[5], cid), ARGV[7]) == 0
   and redis.call('LLEN', string.format(ARGV[4], cid)) >= cap then
  return {cid, 'full'}  -- the conversation's message cap: nothing stored
end
local lang = redis.call('HGET', conv, 'language') or ''
local body = '{"conversation_id":' .. cjson.encode(cid) .. ',' .. string.sub(ARGV[8], 2)
local seq, stored, fresh = append(conv, string.format(ARGV[4], cid), string.format(ARGV[5], cid),
                                  KEYS[4], KEYS[5], cid, ARGV[7], lang, body, now)
if fresh == 1 and KEYS[6] and redis.call('HGET', conv, 'state') == 'bot' then
  redis.call('ZADD', KEYS[6], now, cid .. '|' .. seq)  -- awaiting the bot: written with the message
end
return {cid, created, seq, stored, fresh, redis.call('HGETALL', conv),
        redis.call('HGET', KEYS[2], 'language') or ''}
"""
)

# KEYS: conversation, messages, client ids, events, active
# ARGV: cid, client_id, lang, body, now, nguards, guards (field, value)...
# -> {seq, stored, fresh} or {-2, 'missing'} or {-1, field, value it has}
APPEND = (
    _APPEND_FN
    + """
local conv = KEYS[1]
if redis.call('EXISTS', conv) == 0 then return {-2, 'missing'} end
local nguards = tonumber(ARGV[6])
for i = 0, nguards - 1 do
  local name, want = ARGV[7 + 2 * i], ARGV[8 + 2 * i]
  local have = redis.call('HGET', conv, name)
  if have == false then have = '' end
  if have ~= want then return {-1, name, have} end
end
local seq, stored, fresh = append(conv, KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3],
                                  ARGV[4], ARGV[5])
return {seq, stored, fresh}
"""
)

# An anonymous visitor record (no conversation yet) expires. KEYS: visitor hash, their conversations
# ARGV: seconds. Atomic with the PERSIST of a conversation's creation (_OPEN_FN).
EXPIRE_ANONYMOUS = """
if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 0
"""

# Releases a lock only if it still holds the caller's token. KEYS: lock; ARGV: token
# A conversation's file slots (the attachments cap). KEYS: conversation; ARGV: field, cap, delta
# -> count after the change, or -1 (no such conversation) or -2 (the cap is reached: nothing
# changed). delta -1 gives a slot back (an upload that failed or was a retry).
FILE_SLOT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local delta, cap = tonumber(ARGV[3]), tonumber(ARGV[2])
local count = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if delta > 0 and cap > 0 and count + delta > cap then return -2 end
if count + delta < 0 then delta = -count end
return redis.call('HINCRBY', KEYS[1], ARGV[1], delta)
"""

RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Keeps a lock alive while its holder still holds it. KEYS: lock; ARGV: token, milliseconds
RENEW_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# Guards, then an optional message, then writes: all or nothing.
# KEYS: conversation, messages, client ids, events, active
# ARGV: cid, now, has_message, client_id, lang, body, nguards, guards..., nops, ops...
#   guard `eq <field> <value>`      the conversation hash field equals value ('' = unset)
#   guard `scard_lt <key> <n>`      set <key> has fewer than n members
#   op `hset <field> <value>` / `hdel <field>`          on the conversation hash
#   op `zadd <key> <score> <member>` / `zrem <key> <member>`
#   op `sadd <key> <member>` / `srem <key> <member>`
#   op `del_if <key> <value>`       delete a string key if it holds value
#   op `push_trim <key> <value> <n>` LPUSH and keep n items
#   op `xadd <type> <json>`         an outbox entry for this conversation
# -> {1, 'ok', seq, stored} or {0, kind, name, have}
TRANSITION = (
    _APPEND_FN
    + """
local conv = KEYS[1]
local cid, now = ARGV[1], ARGV[2]
local i = 7
local nguards = tonumber(ARGV[i]); i = i + 1
for _ = 1, nguards do
  local kind = ARGV[i]
  if kind == 'eq' then
    local have = redis.call('HGET', conv, ARGV[i + 1])
    if have == false then have = '' end
    if have ~= ARGV[i + 2] then return {0, 'eq', ARGV[i + 1], have} end
    i = i + 3
  elseif kind == 'scard_lt' then
    if redis.call('SCARD', ARGV[i + 1]) >= tonumber(ARGV[i + 2]) then return {0, 'scard', ARGV[i + 1], ''} end
    i = i + 3
  else
    return redis.error_reply('unknown guard ' .. kind)
  end
end
local seq, stored = 0, ''
if ARGV[3] == '1' then
  seq, stored = append(conv, KEYS[2], KEYS[3], KEYS[4], KEYS[5], cid, ARGV[4], ARGV[5], ARGV[6], now)
end
local nops = tonumber(ARGV[i]); i = i + 1
for _ = 1, nops do
  local op = ARGV[i]
  if op == 'hset' then redis.call('HSET', conv, ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'hdel' then redis.call('HDEL', conv, ARGV[i + 1]); i = i + 2
  elseif op == 'zadd' then redis.call('ZADD', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]); i = i + 4
  elseif op == 'zrem' then redis.call('ZREM', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'sadd' then redis.call('SADD', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'srem' then redis.call('SREM', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'del_if' then
    if redis.call('GET', ARGV[i + 1]) == ARGV[i + 2] then redis.call('DEL', ARGV[i + 1]) end
    i = i + 3
  elseif op == 'xadd' then
    redis.call('XADD', KEYS[4], '*', 'type', ARGV[i + 1], 'cid', cid,
               'vid', redis.call('HGET', conv, 'visitor_id') or '', 'at', now, 'body', ARGV[i + 2])
    i = i + 3
  elseif op == 'push_trim' then
    redis.call('LPUSH', ARGV[i + 1], ARGV[i + 2]); redis.call('LTRIM', ARGV[i + 1], 0, tonumber(ARGV[i + 3]) - 1)
    i = i + 4
  else
    return redis.error_reply('unknown op ' .. op)
  end
end
return {1, 'ok', seq, stored}
"""
)

# What a bot turn leaves behind, in one round trip: the language Rasa detected (onto the
# conversation and the visitor's message, each only if it differs), the bot's resolution, and
# the bot's replies.
# KEYS: conversation, messages, client ids, events, active
# ARGV: cid, now, visitor_seq, detected ('' = none), resolution JSON ('' = none), nreplies,
#       (lang, body) per reply...
# -> {message_lang_written (1, 0 = not needed, -1 = the message has another layout), stored...}
BOT_TURN = (
    _APPEND_FN
    + """
local conv, msgs = KEYS[1], KEYS[2]
local cid, now, visitor_seq, detected = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local awaited = 1
if KEYS[6] then awaited = redis.call('ZREM', KEYS[6], cid .. '|' .. visitor_seq) end  -- the turn is done
-- replies to a message no longer awaiting the bot: another run answered it (or it was given up)
if awaited == 0 and tonumber(ARGV[6]) > 0 then return {-3} end
if redis.call('HGET', conv, 'state') ~= 'bot' then return {-2} end  -- left the bot: drop the turn
local vid = redis.call('HGET', conv, 'visitor_id') or ''
local written = 0
if detected ~= '' then
  if (redis.call('HGET', conv, 'language') or '') ~= detected then
    redis.call('HSET', conv, 'language', detected)
    redis.call('XADD', KEYS[4], '*', 'type', 'conversation', 'cid', cid, 'vid', vid, 'at', now,
               'body', '{"language":' .. cjson.encode(detected) .. '}')
  end
  local raw = redis.call('LINDEX', msgs, visitor_seq - 1)
  local prefix = '{"seq":' .. visitor_seq .. ',"lang":'
  local wanted = prefix .. cjson.encode(detected)
  if raw and string.sub(raw, 1, #wanted + 1) ~= wanted .. ',' then
    local comma = string.find(raw, ',', #prefix + 1, true)
    if string.sub(raw, 1, #prefix) == prefix and comma then
      redis.call('LSET', msgs, visitor_seq - 1, wanted .. string.sub(raw, comma))
      redis.call('XADD', KEYS[4], '*', 'type', 'message_update', 'cid', cid, 'vid', vid, 'at', now,
                 'body', '{"seq":' .. visitor_seq .. ',"lang":' .. cjson.encode(detected) .. '}')
      written = 1
    else
      written = -1
    end
  end
end
local out = {written}
if ARGV[5] ~= '' then
  redis.call('HSET', conv, 'bot_resolution', ARGV[5])
  redis.call('XADD', KEYS[4], '*', 'type', 'conversation', 'cid', cid, 'vid', vid, 'at', now,
             'body', '{"bot_resolution":' .. ARGV[5] .. '}')
end
local n = tonumber(ARGV[6])
for r = 0, n - 1 do
  local lang = ARGV[7 + 2 * r]
  if lang == '' then lang = redis.call('HGET', conv, 'language') or '' end
  local _, stored = append(conv, msgs, KEYS[3], KEYS[4], KEYS[5], cid, '', lang, ARGV[8 + 2 * r], now)
  table.insert(out, stored)
end
return out
"""
)
