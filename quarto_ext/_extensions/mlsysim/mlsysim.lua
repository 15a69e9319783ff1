--[[
mlsysim.lua — napkin math for Quarto and plain pandoc.

A thin adapter over `python -m mlsysim batch` (docs/contracts.md, "Batch protocol"): the filter
collects every napkin element of the document in document order, sends ONE JSON request to
the Python engine, splices the rendered results back, and stops the render (exit 1) listing
every failure as `file:line: error[mlsysim.<kind>]: message`.

Elements (pandoc-native; shortcodes.lua emits the same placeholders in Quarto):
  ```{.napkin}            statements: `x = expr`, `check(cond, "why")`, claims. Hidden unless
                          `echo="true"` (then shown as source).
  ```{.napkin-eq}         one expression rendered as a derivation (display math).
  ```{.napkin-table}      a table specification, rendered as a table.
  `expr`{.napkin}         inline value; attributes unit, sig-figs, style (passed through).
  [300 FLOP/B]{.claim of="ridge" tol="10%"}   a claim: renders the author's text, fails the
                          render when the formula disagrees beyond tolerance.
  []{.napkin expr="…"}, []{.claim claim="…"}, []{.napkin-eq expr="…"}  shortcode
                          placeholders (same semantics).

Only the document body is read (napkin math in metadata such as a title is not evaluated,
as `mlsysim check` does not evaluate it). The engine locates every element with the same
scanner `mlsysim check` uses, so both report the same failures at the same lines.

Options: document metadata key `mlsysim:` (sig-figs, tolerance, siunitx, fail-mode), resolved
by the engine with the project file and the chapter's front matter as every host resolves
them; the environment variable MLSYSIM_FAIL_MODE (error|warn) overrides fail-mode for drafts.
Interpreter: MLSYSIM_PYTHON, else QUARTO_PYTHON, else python3.

Quarto calls `error()` only to log, so failures end the process with os.exit(1).
Book renders that concatenate chapters (PDF) are split at Quarto's
`<!-- quarto-file-metadata: BASE64JSON -->` markers; each item carries its chapter's file.
--]]

local PROTOCOL_VERSION = 1
local MARKER_PATTERN = "<!%-%- quarto%-file%-metadata: ([%w%+/=]+) %-%->"
local INTERNAL_ATTRS = { expr = true, claim = true, echo = true }
local BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local HTML_FORMATS = {
  html = true, html4 = true, html5 = true, revealjs = true, slidy = true, slideous = true,
  dzslides = true, s5 = true, epub = true, epub2 = true, epub3 = true, chunkedhtml = true,
}
local LATEX_FORMATS = { latex = true, beamer = true, pdf = true }

local has_quarto = type(quarto) == "table" and type(quarto.doc) == "table"

-- ---------------------------------------------------------------------------------------------
-- small helpers

local function nonempty(s)
  if s == nil or s == "" then return nil end
  return s
end

local function log_line(line)
  io.stderr:write(line .. "\n")
end

--- Text of inlines as the author typed it: straight quotes (pandoc's `stringify` would turn
--- `"bf16"` into curly quotes, which the napkin parser rightly rejects).
local function plain_text(inlines)
  local parts = {}
  local function visit(list)
    for _, el in ipairs(list) do
      local t = el.t
      if t == "Str" then
        parts[#parts + 1] = el.text
      elseif t == "Space" or t == "SoftBreak" or t == "LineBreak" then
        parts[#parts + 1] = " "
      elseif t == "Quoted" then
        local q = el.quotetype == "SingleQuote" and "'" or '"'
        parts[#parts + 1] = q
        visit(el.content)
        parts[#parts + 1] = q
      elseif t == "Code" or t == "Math" or t == "RawInline" then
        parts[#parts + 1] = el.text
      elseif el.content ~= nil then
        visit(el.content)
      end
    end
  end
  visit(inlines)
  return table.concat(parts)
end

local function base64_decode(s)
  local out, bits, nbits = {}, 0, 0
  for ch in s:gmatch("[%w%+/]") do
    bits = ((bits << 6) | (BASE64_ALPHABET:find(ch, 1, true) - 1)) & 0xFFFFFF
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.char((bits >> nbits) & 0xFF)
    end
  end
  return table.concat(out)
end

--- The chapter file named by a Quarto file-metadata marker, or nil.
local function marker_file(raw)
  if raw.format ~= "html" then return nil end
  local encoded = raw.text:match(MARKER_PATTERN)
  if not encoded then return nil end
  local ok, meta = pcall(pandoc.json.decode, base64_decode(encoded), false)
  if ok and type(meta) == "table" then return nonempty(meta.bookItemFile) end
  return nil
end

--- A path relative to the working directory when it lies below it (readable reports).
local function relative_path(path)
  if path == nil then return nil end
  local cwd = pandoc.system.get_working_directory()
  if path:sub(1, #cwd + 1) == cwd .. "/" then return path:sub(#cwd + 2) end
  return path
end

-- ---------------------------------------------------------------------------------------------
-- host: file, format, options, interpreter

local function document_file()
  if has_quarto and nonempty(quarto.doc.input_file) then
    return relative_path(quarto.doc.input_file)
  end
  local inputs = PANDOC_STATE and PANDOC_STATE.input_files or {}
  local first = inputs[1]
  if first == nil or first == "-" then return "<stdin>" end
  return relative_path(first)
end

local function output_format()
  if has_quarto and type(quarto.doc.is_format) == "function" then
    if quarto.doc.is_format("latex") or quarto.doc.is_format("pdf") then return "latex" end
    if quarto.doc.is_format("html") then return "html" end
    return "plain"
  end
  local base = FORMAT:match("^[%w_]+") or FORMAT
  if HTML_FORMATS[base] then return "html" end
  if LATEX_FORMATS[base] then return "latex" end
  return "plain"
end

local function meta_value(v)
  if type(v) == "boolean" or type(v) == "number" then return v end
  local text = pandoc.utils.stringify(v)
  if text:match("^%d+$") then return math.tointeger(tonumber(text)) end
  if text == "true" then return true end
  if text == "false" then return false end
  return text
end

local function read_options(meta)
  local options = {}
  local m = meta.mlsysim
  if type(m) == "table" then
    for key, value in pairs(m) do
      options[key] = meta_value(value)
    end
  end
  return options
end

--- Options that win over every other level (the command line of a render).
local function read_overrides()
  local overrides = {}
  local env_mode = nonempty(os.getenv("MLSYSIM_FAIL_MODE"))
  if env_mode then overrides["fail-mode"] = env_mode end
  return overrides
end

local function interpreter()
  return nonempty(os.getenv("MLSYSIM_PYTHON")) or nonempty(os.getenv("QUARTO_PYTHON"))
    or "python3"
end

-- ---------------------------------------------------------------------------------------------
-- collecting and splicing: both passes walk the document top-down (document order), so the
-- n-th element seen by the splice pass is item n of the batch.

local function item_attrs(attributes)
  local attrs = {}
  for key, value in pairs(attributes) do
    if not INTERNAL_ATTRS[key] then attrs[key] = value end
  end
  return attrs
end

--- The batch item an element stands for, or nil when it is not a napkin element.
local function classify(el)
  local t = el.t
  if t == "CodeBlock" then
    if el.classes:includes("napkin") then return "block", el.text end
    if el.classes:includes("napkin-eq") then return "eq", el.text end
    if el.classes:includes("napkin-table") then return "table", el.text end
  elseif t == "Code" then
    if el.classes:includes("napkin") then return "inline", el.text end
  elseif t == "Span" then
    if el.classes:includes("napkin") then
      return "inline", el.attributes.expr or plain_text(el.content)
    end
    if el.classes:includes("napkin-eq") then
      return "eq", el.attributes.expr or plain_text(el.content)
    end
    if el.classes:includes("claim") then
      return "claim", el.attributes.claim or plain_text(el.content)
    end
  end
  return nil
end

--- Walk the body of `doc` in document order, calling `visit(el, kind, text, file)` for every
--- napkin element; `file` is the chapter file of concatenated books (nil otherwise). What
--- visit returns replaces the element; the walked blocks are returned.
local function walk_items(doc, visit)
  local current_file = nil
  local function raw(el)
    current_file = marker_file(el) or current_file
    return nil
  end
  local function element(el)
    local kind, text = classify(el)
    if kind == nil then return nil end
    return visit(el, kind, text, current_file), false
  end
  return doc.blocks:walk({
    traverse = "topdown",
    RawBlock = raw,
    RawInline = raw,
    CodeBlock = element,
    Code = element,
    Span = element,
  })
end

local function collect(doc)
  local items = {}
  walk_items(doc, function(el, kind, text, file)
    local item = {
      id = tostring(#items + 1),
      kind = kind,
      text = text,
      attrs = item_attrs(el.attributes),
    }
    if file then item.file = file end
    items[#items + 1] = item
    return nil
  end)
  return items
end

local function inline_result(result, format)
  if format == "html" or format == "latex" then
    if result.math and nonempty(result.latex) then
      return pandoc.Math("InlineMath", result.latex)
    end
    if format == "latex" and nonempty(result.latex) then
      return pandoc.RawInline("latex", result.latex)
    end
  end
  return pandoc.Str(result.text or "")
end

local function result_classes(base, result)
  local classes = { base }
  if not result.ok then classes[#classes + 1] = "mlsysim-failed" end
  return classes
end

local function block_result(el, kind, result, format)
  if kind == "block" then
    local echo = el.attributes.echo == "true" or el.classes:includes("echo")
    if not echo then return {} end
    return pandoc.CodeBlock(el.text, pandoc.Attr(el.identifier, { "python", "napkin-source" }))
  end
  if kind == "eq" then
    local body
    if (format == "html" or format == "latex") and nonempty(result.latex) then
      body = pandoc.Math("DisplayMath", result.latex)
    else
      body = pandoc.Str(result.text or "")
    end
    return pandoc.Div({ pandoc.Para({ body }) },
      pandoc.Attr(el.identifier, result_classes("mlsysim-eq", result)))
  end
  -- table: the engine's markdown is parsed by pandoc, so every writer gets a real Table
  local blocks
  if nonempty(result.markdown) then
    blocks = pandoc.read(result.markdown, "markdown").blocks
  else
    blocks = { pandoc.Para({ pandoc.Str(result.text or "") }) }
  end
  return pandoc.Div(blocks, pandoc.Attr(el.identifier, result_classes("mlsysim-table", result)))
end

local function splice(doc, results, format)
  local n = 0
  return walk_items(doc, function(el, kind)
    n = n + 1
    local result = results[tostring(n)]
    if result == nil then
      log_line(string.format("mlsysim: the engine returned no result for item %d (%s)", n, kind))
      os.exit(1)
    end
    if el.t == "Span" and kind == "eq" then  -- the napkin-eq shortcode: display math inline
      local body = pandoc.Str(result.text or "")
      if (format == "html" or format == "latex") and nonempty(result.latex) then
        body = pandoc.Math("DisplayMath", result.latex)
      end
      return pandoc.Span({ body }, pandoc.Attr(el.identifier, result_classes("mlsysim-eq", result)))
    end
    if kind == "block" or kind == "eq" or kind == "table" then
      return block_result(el, kind, result, format)
    end
    local base = kind == "claim" and "mlsysim-claim" or "mlsysim-value"
    return pandoc.Span({ inline_result(result, format) },
      pandoc.Attr(el.identifier, result_classes(base, result)))
  end)
end

-- ---------------------------------------------------------------------------------------------
-- the engine call and the failure report

--- Why `python -m mlsysim batch` failed, and what to do, from the error pandoc.pipe raised.
--- The engine answers every request: exit 2 (malformed request) and 4 (internal error)
--- come with a JSON error on stdout; exit 1 means Python could not even start mlsysim.
local function pipe_failure(python, err)
  if type(err) ~= "table" then
    return string.format("cannot run the Python interpreter %s: %s", python, tostring(err)),
      "set MLSYSIM_PYTHON (or QUARTO_PYTHON) to a Python with mlsysim installed"
  end
  local ok, decoded = pcall(pandoc.json.decode, err.output or "", false)
  if ok and type(decoded) == "table" and type(decoded.error) == "table" then
    local message = decoded.error.message or decoded.error.what or "unknown error"
    if err.error_code == 4 then
      return "internal error in the mlsysim engine: " .. message,
        "this is a bug in mlsysim: please report it with the chapter that triggers it"
    end
    return "the engine refused the request: " .. message, nil
  end
  if err.error_code == 1 then
    return string.format("%s could not start mlsysim (see the Python error above)", python),
      "set MLSYSIM_PYTHON (or QUARTO_PYTHON) to a Python with mlsysim installed"
  end
  return string.format("the mlsysim engine stopped with exit code %s (see above)",
    tostring(err.error_code)), "this is a bug in mlsysim: please report it"
end

local function run_batch(request)
  local python = interpreter()
  local ok, output = pcall(pandoc.pipe, python, { "-m", "mlsysim", "batch" },
    pandoc.json.encode(request))
  if not ok then
    local message, help = pipe_failure(python, output)
    log_line(string.format("%s: error[mlsysim.error]: %s", request.file, message))
    if help then log_line("  = help: " .. help) end
    os.exit(1)
  end
  local decoded_ok, response = pcall(pandoc.json.decode, output, false)
  if not decoded_ok or type(response) ~= "table" or type(response.results) ~= "table" then
    log_line(string.format("%s: error[mlsysim.error]: unreadable batch response: %s",
      request.file, output:sub(1, 300)))
    os.exit(1)
  end
  return response
end

--- JSON numbers decode as floats: `12`, not `12.0`.
local function int_text(v)
  if type(v) ~= "number" then return nil end
  return tostring(math.tointeger(v) or v)
end

local function severity_of(f)
  if type(f.extra) == "table" and f.extra.severity == "warning" then return "warning" end
  return "error"
end

local function report(failures)
  for _, f in ipairs(failures) do
    local where = string.format("%s:%s", f.file or "?", int_text(f.line) or "0")
    local column = int_text(f.column)
    if column then where = where .. ":" .. column end
    log_line(string.format("%s: %s[mlsysim.%s]: %s", where, severity_of(f), f.kind or "error",
      f.message or ""))
    if nonempty(f.hint) and f.hint ~= pandoc.json.null then
      log_line("  = help: " .. f.hint)
    end
  end
end

local function use_siunitx(doc, format, options)
  if format ~= "latex" or options.siunitx ~= true then return end
  if has_quarto and type(quarto.doc.use_latex_package) == "function" then
    quarto.doc.use_latex_package("siunitx")
    return
  end
  local includes = doc.meta["header-includes"]
  local package = pandoc.MetaBlocks({ pandoc.RawBlock("latex", "\\usepackage{siunitx}") })
  if includes == nil then
    doc.meta["header-includes"] = pandoc.MetaList({ package })
  elseif pandoc.utils.type(includes) == "List" then
    includes:insert(package)
  else
    doc.meta["header-includes"] = pandoc.MetaList({ includes, package })
  end
end

local function process(doc)
  local items = collect(doc)
  if #items == 0 then return nil end
  local format = output_format()
  local options = read_options(doc.meta)
  local request = {
    version = PROTOCOL_VERSION,
    file = document_file(),
    format = format,
    options = options,
    overrides = read_overrides(),
    items = items,
  }
  local response = run_batch(request)
  local results = {}
  local failed = 0
  for _, r in ipairs(response.results) do
    results[tostring(r.id)] = r
    if r.ok == false then failed = failed + 1 end
  end
  local failures = response.failures or {}
  if failed > 0 and #failures == 0 then
    log_line(string.format("%s: error[mlsysim.error]: the engine marked %d item(s) as failed "
      .. "without saying why", request.file, failed))
    log_line("  = help: this is a bug in mlsysim: please report it with the chapter")
    os.exit(1)
  end
  if #failures > 0 then
    report(failures)
    local blocking = 0
    for _, f in ipairs(failures) do
      if severity_of(f) == "error" then blocking = blocking + 1 end
    end
    if blocking > 0 then
      log_line(string.format(
        "mlsysim: %d failure(s) in %s; render stopped (fail-mode: warn renders anyway)",
        blocking, request.file))
      os.exit(1)
    end
  end
  doc.blocks = splice(doc, results, format)
  use_siunitx(doc, format, options)
  return doc
end

return {
  { Pandoc = process },
}
