--[[
shortcode_runner.lua — expands `{{< name args >}}` with a Quarto shortcode handler table,
for tests under plain pandoc (Quarto parses shortcodes itself, before its filters run).

Pandoc has already parsed the shortcode text into inlines, so the raw text is rebuilt with
straight quotes; enough for the extension's shortcodes, not a general Quarto parser.
--]]

local runner = {}

local function plain_text(inlines)
  local parts = {}
  local function visit(list)
    for _, el in ipairs(list) do
      if el.t == "Str" then
        parts[#parts + 1] = el.text
      elseif el.t == "Space" or el.t == "SoftBreak" then
        parts[#parts + 1] = " "
      elseif el.t == "Quoted" then
        local q = el.quotetype == "SingleQuote" and "'" or '"'
        parts[#parts + 1] = q
        visit(el.content)
        parts[#parts + 1] = q
      elseif el.t == "Code" or el.t == "Math" then
        parts[#parts + 1] = el.text
      elseif el.content ~= nil then
        visit(el.content)
      end
    end
  end
  visit(inlines)
  return table.concat(parts)
end

--- Split `name "a b" key="v" 'c'` into name, positional raw args and keyword args.
function runner.parse(raw)
  local tokens = {}
  local i = 1
  while i <= #raw do
    local c = raw:sub(i, i)
    if c:match("%s") then
      i = i + 1
    else
      local key, rest = raw:match("^([%w%-_]+)=()", i)
      local start = rest or i
      local q = raw:sub(start, start)
      local value, stop
      if q == '"' or q == "'" then
        stop = raw:find(q, start + 1, true) or (#raw + 1)
        value = raw:sub(start + 1, stop - 1)
        stop = stop + 1
      else
        stop = raw:find("%s", start) or (#raw + 1)
        value = raw:sub(start, stop - 1)
      end
      tokens[#tokens + 1] = { key = key, value = value }
      i = stop
    end
  end
  local name = table.remove(tokens, 1).value
  local raw_args, kwargs = {}, {}
  for _, tok in ipairs(tokens) do
    if tok.key then kwargs[tok.key] = tok.value else raw_args[#raw_args + 1] = tok.value end
  end
  return name, raw_args, kwargs
end

--- Call a handler the way Quarto does: (args, kwargs, meta, raw_args, context).
function runner.call(handlers, raw, meta, context)
  local name, raw_args, raw_kwargs = runner.parse(raw)
  local handler = handlers[name]
  if handler == nil then return nil end
  local args = {}
  for i, v in ipairs(raw_args) do args[i] = pandoc.Inlines({ pandoc.Str(v) }) end
  local kwargs = setmetatable({}, { __index = function() return pandoc.Inlines({}) end })
  for k, v in pairs(raw_kwargs) do rawset(kwargs, k, pandoc.Inlines({ pandoc.Str(v) })) end
  return handler(args, kwargs, meta, raw_args, context)
end

local function expand_inlines(handlers, meta, inlines)
  local out = pandoc.Inlines({})
  local i = 1
  while i <= #inlines do
    local el = inlines[i]
    local open = el.t == "Str" and el.text:find("{{<", 1, true)
    local j, close = i, nil
    if open then
      while j <= #inlines do
        if inlines[j].t == "Str" then
          close = inlines[j].text:find(">}}", j == i and open or 1, true)
          if close then break end
        end
        j = j + 1
      end
    end
    if not (open and close) then
      out:insert(el)
      i = i + 1
    else
      local slice = pandoc.Inlines({})
      for k = i, j do slice:insert(inlines[k]) end
      local text = plain_text(slice)
      local s = text:find("{{<", 1, true)
      local e = select(2, text:find(".*>}}"))
      local prefix, suffix = text:sub(1, s - 1), text:sub(e + 1)
      local result
      if prefix:sub(-1) == "{" and suffix:sub(1, 1) == "}" then
        -- {{{< name >}}} is escaped: Quarto shows {{< name >}} and runs nothing
        prefix, suffix = prefix:sub(1, -2), suffix:sub(2)
        result = pandoc.Str(text:sub(s, e))
      elseif text:sub(s + 3, s + 4) == "/*" and text:sub(e - 4, e - 3) == "*/" then
        -- so is {{</* name */>}}
        result = pandoc.Str("{{<" .. text:sub(s + 5, e - 5) .. ">}}")
      else
        result = runner.call(handlers, text:sub(s + 3, e - 3), meta, "inline")
      end
      if prefix ~= "" then out:insert(pandoc.Str(prefix)) end
      out:insert(result)
      if suffix ~= "" then out:insert(pandoc.Str(suffix)) end
      i = j + 1
    end
  end
  return out
end

--- Shortcodes inside code text (a code block, inline code, a raw block), as Quarto expands
--- them: the handler is called in the "text" context and its string result replaces the
--- shortcode; `{{{< … >}}}` and `{{</* … */>}}` become the shortcode as written. Other
--- handlers' shortcodes are left as they are.
local function expand_text(handlers, meta, text)
  local out, i = {}, 1
  while true do
    local s = text:find("{{<", i, true)
    if s == nil then break end
    local e = select(2, text:find(">}}", s + 3, true))
    if e == nil then break end
    local shown
    if s > 1 and text:sub(s - 1, s - 1) == "{" and text:sub(e + 1, e + 1) == "}" then
      out[#out + 1] = text:sub(i, s - 2)
      shown, e = text:sub(s, e), e + 1
    elseif text:sub(s + 3, s + 4) == "/*" and text:sub(e - 4, e - 3) == "*/" then
      out[#out + 1] = text:sub(i, s - 1)
      shown = "{{<" .. text:sub(s + 5, e - 5) .. ">}}"
    else
      out[#out + 1] = text:sub(i, s - 1)
      local result = runner.call(handlers, text:sub(s + 3, e - 3), meta, "text")
      shown = type(result) == "string" and result or text:sub(s, e)
    end
    out[#out + 1] = shown
    i = e + 1
  end
  out[#out + 1] = text:sub(i)
  return table.concat(out)
end

--- A pandoc filter expanding the shortcodes of `handlers`: first a shortcode that is a
--- paragraph on its own (block context), then shortcodes within text (inline context), and
--- those inside code (text context).
function runner.filter(handlers)
  return {
    Pandoc = function(doc)
      local meta = doc.meta
      local function code(el)
        if el.text:find("{{<", 1, true) then
          el.text = expand_text(handlers, meta, el.text)
          return el
        end
        return nil
      end
      doc = doc:walk({
        Para = function(para)
          local text = plain_text(para.content)
          if text:match("^{{<.*>}}$") and select(2, text:gsub("{{<", "")) == 1 then
            return runner.call(handlers, text:sub(4, -4), meta, "block")
          end
          return nil
        end,
        CodeBlock = code,
        Code = code,
        RawBlock = code,
        RawInline = code,
      })
      return doc:walk({
        Inlines = function(inlines) return expand_inlines(handlers, meta, inlines) end,
      })
    end,
  }
end

return runner
