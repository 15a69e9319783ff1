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
  ```{.napkin-plot}       a chart (options as attributes: kind, devices, x, caption …), as a
                          figure: inline SVG in HTML, the engine's cached PDF in LaTeX.
  ```{.napkin-formula}    a formula card (the content is the formula's name).
  ```{.napkin-registry}   a registry table (content: entry ids; fields, registry, caption).
  ::: {.napkin-formula expr="…"}, ::: {.napkin-registry expr="…"}  the reference shortcodes'
                          block placeholders.
  `expr`{.napkin}         inline value; attributes unit, sig-figs, style (passed through).
  [300 FLOP/B]{.claim of="ridge" tol="10%"}   a claim: renders the author's text, fails the
                          render when the formula disagrees beyond tolerance.
  []{.napkin expr="…"}, []{.claim claim="…"}, []{.napkin-eq expr="…"}  shortcode
                          placeholders (same semantics).

Only the document body is read: napkin math in metadata such as a title is not evaluated;
the engine reports each such item at its place, as `mlsysim check` does. The engine locates every element with the same
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

--- The project directory of a project render: `quarto.project.directory` under Quarto (nil
--- outside a project), else QUARTO_PROJECT_DIR (which Quarto sets for a project render and
--- which a plain pandoc run can set), else nil.
local function project_dir()
  local dir = nil
  if type(quarto) == "table" and type(quarto.project) == "table" then
    dir = quarto.project.directory
    if type(dir) == "function" then dir = dir() end  -- typed as a function in quarto's stubs
  end
  if type(dir) ~= "string" or dir == "" then dir = nonempty(os.getenv("QUARTO_PROJECT_DIR")) end
  if dir == nil then return nil end
  if not pandoc.path.is_absolute(dir) then
    dir = pandoc.path.join({ pandoc.system.get_working_directory(), dir })
  end
  return pandoc.path.normalize(dir)
end

local function absolute(path)
  if pandoc.path.is_absolute(path) then return pandoc.path.normalize(path) end
  return pandoc.path.normalize(pandoc.path.join({ pandoc.system.get_working_directory(), path }))
end

--- A path relative to the project directory (a project render runs pandoc in each chapter's
--- own folder), else to the working directory, when it lies below it (readable reports).
local function relative_path(path)
  if path == nil then return nil end
  local full = absolute(path)
  local base = project_dir() or pandoc.system.get_working_directory()
  base = pandoc.path.normalize(base):gsub("/+$", "")
  if full:sub(1, #base + 1) == base .. "/" then return full:sub(#base + 2) end
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
  if pandoc.utils.type(v) == "table" then  -- a mapping (plot-style: {font.size: 9})
    local out = {}
    for key, value in pairs(v) do out[key] = meta_value(value) end
    return out
  end
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

--- A `{{< napkin-table >}}` or `{{< napkin-plot >}}` placeholder (no such shortcodes): an
--- item of its kind, marked, which the engine fails at its place with what to write instead.
local function unsupported_shortcode(el)
  local kind = ({ ["napkin-table"] = "table", ["napkin-plot"] = "plot" })[el.attributes.shortcode]
  if kind == nil then return nil end
  return kind, el.attributes.expr or ""
end

--- The batch item an element stands for, or nil when it is not a napkin element.
local function classify(el)
  local t = el.t
  if t == "CodeBlock" then
    if el.classes:includes("napkin") then return "block", el.text end
    if el.classes:includes("napkin-eq") then return "eq", el.text end
    if el.classes:includes("napkin-table") then return "table", el.text end
    if el.classes:includes("napkin-plot") then return "plot", el.text end
    if el.classes:includes("napkin-formula") then return "formula", el.text end
    if el.classes:includes("napkin-registry") then return "registry", el.text end
  elseif t == "Div" then  -- the reference shortcodes' block placeholders
    if el.classes:includes("napkin-formula") then return "formula", el.attributes.expr or "" end
    if el.classes:includes("napkin-registry") then return "registry", el.attributes.expr or "" end
    if el.attributes.shortcode then return unsupported_shortcode(el) end
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
    if el.attributes.shortcode then return unsupported_shortcode(el) end
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
  local filter = {
    traverse = "topdown",
    RawBlock = raw,
    RawInline = raw,
    CodeBlock = element,
    Div = element,
    Code = element,
    Span = element,
  }
  -- A figure's image description is a copy of its caption (pandoc 3): the caption is
  -- rendered, the description only becomes alt text, so only the caption's items are
  -- items (walking both evaluated each caption item twice, the copy unlocated). An inline
  -- image's description is walked as any inlines, as the scanner reads it.
  local in_figure = {}
  for k, v in pairs(filter) do in_figure[k] = v end
  in_figure.Image = function() return nil, false end
  filter.Figure = function(fig)
    fig.caption.long = fig.caption.long:walk(filter)
    if fig.caption.short then fig.caption.short = fig.caption.short:walk(filter) end
    fig.content = fig.content:walk(in_figure)
    return fig, false
  end
  return doc.blocks:walk(filter)
end

--- Whether some metadata value (a title, an abstract: Markdown) holds a napkin element or a
--- shortcode, which only the body's evaluation would show.
local function meta_has_item(value)
  local found = false
  local function look(el)
    if classify(el) ~= nil or (el.t == "Str" and el.text:find("{{<", 1, true)) then
      found = true
    end
  end
  local function walk(v)
    local kind = pandoc.utils.type(v)
    if kind == "Inlines" or kind == "Blocks" then
      v:walk({ Code = look, Span = look, Str = look })
    elseif kind == "List" or kind == "table" or kind == "Meta" then
      for _, x in pairs(v) do walk(x) end
    end
  end
  walk(value)
  return found
end

--- Whether the document holds what no element of it shows but the engine's scan reports at
--- its place: the mark a shortcode leaves inside code (shortcodes.lua), a napkin item
--- written inside raw TeX or in the metadata. The engine is then asked even when there are
--- no items.
local function has_text_mark(doc)
  local found = meta_has_item(doc.meta)
  local function look(el)
    if el.text:find("⟨mlsysim: shortcode not shown here⟩", 1, true) then found = true end
  end
  local function raw(el)
    look(el)
    local tex = el.format == "tex" or el.format == "latex"
    if tex and (el.text:find(".napkin", 1, true) or el.text:find(".claim", 1, true)) then
      found = true
    end
  end
  doc.blocks:walk({ CodeBlock = look, Code = look, RawBlock = raw, RawInline = raw })
  return found
end

local function collect(doc)
  local items = pandoc.List({})  -- a List encodes as a JSON array even when empty
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

--- An inline result for the output format. HTML takes the engine's HTML (values as text,
--- derivations as MathML: pages read without MathJax); LaTeX takes math (or the engine's
--- text-mode LaTeX for what is not math, such as a failed item's mark); the rest, text.
local function inline_result(result, format)
  if format == "html" and nonempty(result.html) then
    return pandoc.RawInline("html", result.html)
  end
  if format == "latex" and nonempty(result.latex) then
    if result.math then return pandoc.Math("InlineMath", result.latex) end
    return pandoc.RawInline("latex", result.latex)
  end
  return pandoc.Str(result.text or "")
end

--- A derivation (display): MathML in HTML, display math in LaTeX.
local function display_result(result, format)
  if format == "html" and nonempty(result.html) then
    return pandoc.RawInline("html", result.html)
  end
  if format == "latex" and nonempty(result.latex) and result.math then
    return pandoc.Math("DisplayMath", result.latex)
  end
  return inline_result(result, format)
end

local function result_classes(base, result)
  local classes = { base }
  if not result.ok then classes[#classes + 1] = "mlsysim-failed" end
  return classes
end

--- A plot as a figure with the engine's caption and alt text: the inline SVG (which carries
--- the alt text as its title) in HTML, the cached PDF as an image in LaTeX, else the alt text.
local function plot_result(el, result, format)
  local plot = type(result.plot) == "table" and result.plot or {}
  local content
  if result.mark or not result.ok then
    content = { pandoc.Plain({ inline_result(result, format) }) }
  elseif format == "html" and nonempty(plot.svg) then
    content = { pandoc.RawBlock("html", plot.svg) }
  elseif format == "latex" and nonempty(plot.pdf) then
    content = { pandoc.Plain({ pandoc.Image(plot.alt or "", plot.pdf) }) }
  else
    content = { pandoc.Para({ pandoc.Str(plot.alt or result.text or "") }) }
  end
  local caption = {}
  if nonempty(plot.caption) then caption = { pandoc.Plain(pandoc.Inlines(plot.caption)) } end
  return pandoc.Figure(content, caption,
    pandoc.Attr(el.identifier, result_classes("mlsysim-plot", result)))
end

--- A formula card or registry table: in HTML the engine's HTML (a card as it is: its formula
--- in MathML, read without MathJax; a table read by pandoc, as for napkin-table), else the
--- engine's Markdown (its math becomes each writer's math).
local function reference_result(el, kind, result, format)
  local blocks
  if result.mark or not result.ok then
    blocks = { pandoc.Plain({ inline_result(result, format) }) }
  elseif kind == "formula" and format == "html" and nonempty(result.html) then
    blocks = { pandoc.RawBlock("html", result.html) }
  elseif kind == "registry" and format == "html" and nonempty(result.html) then
    blocks = pandoc.read(result.html, "html").blocks
  else
    blocks = pandoc.read(result.markdown or result.text or "", "markdown").blocks
  end
  local class = kind == "formula" and "mlsysim-formula-card" or "mlsysim-registry"
  return pandoc.Div(blocks, pandoc.Attr(el.identifier, result_classes(class, result)))
end

--- Citations of a derivation's or formula card's sources when the document has a
--- bibliography (the `.bib` that `mlsysim bib` writes): citeproc renders and lists them.
local cite_sources = false

local function citations(result)
  if not cite_sources or type(result.cites) ~= "table" or #result.cites == 0 then return nil end
  local list = {}
  for _, key in ipairs(result.cites) do
    list[#list + 1] = pandoc.Citation(key, "NormalCitation")
  end
  return pandoc.Para({ pandoc.Cite({ pandoc.Str("[@" .. table.concat(result.cites, "; @") .. "]") },
    list) })
end

local function with_citations(div, result)
  local cited = citations(result)
  if cited then div.content:insert(cited) end
  return div
end

local function block_result(el, kind, result, format)
  if kind == "plot" then return plot_result(el, result, format) end
  if kind == "formula" or kind == "registry" then
    return with_citations(reference_result(el, kind, result, format), result)
  end
  if kind == "block" then
    local echo = el.attributes.echo == "true" or el.classes:includes("echo")
    if not echo then return {} end
    return pandoc.CodeBlock(el.text, pandoc.Attr(el.identifier, { "python", "napkin-source" }))
  end
  if kind == "eq" then
    return with_citations(pandoc.Div({ pandoc.Plain({ display_result(result, format) }) },
      pandoc.Attr(el.identifier, result_classes("mlsysim-eq", result))), result)
  end
  -- table: the engine's table is read by pandoc, so every writer gets a real Table (HTML
  -- from the engine's HTML, whose cells read without MathJax; else from its markdown)
  local blocks
  if result.mark then  -- the table could not be built: the engine's mark of its failure
    blocks = { pandoc.Plain({ inline_result(result, format) }) }
  elseif format == "html" and nonempty(result.html) then
    blocks = pandoc.read(result.html, "html").blocks
  elseif nonempty(result.markdown) then
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
      return pandoc.Span({ display_result(result, format) },
        pandoc.Attr(el.identifier, result_classes("mlsysim-eq", result)))
    end
    if el.t == "Span" and (kind == "table" or kind == "plot") then  -- within a paragraph
      return pandoc.Span({ inline_result(result, format) },
        pandoc.Attr(el.identifier, result_classes("mlsysim-value", result)))
    end
    if kind ~= "inline" and kind ~= "claim" then
      return block_result(el, kind, result, format)
    end
    local base = kind == "claim" and "mlsysim-claim" or "mlsysim-value"
    return pandoc.Span({ inline_result(result, format) },
      pandoc.Attr(el.identifier, result_classes(base, result)))
  end)
end

-- ---------------------------------------------------------------------------------------------
-- a project render: the whole project is checked once (by the engine, on the first chapter
-- that finds no valid result), then every chapter reuses that check. Reuse needs no Python:
-- the engine's manifest lists every file the check read with its SHA-1, the directories
-- whose listing matters, the environment and options; when all still hold and each of this
-- chapter's elements is one of its scanned items, the stored results are the answer.

local TYPOGRAPHIC = {
  ["‘"] = "'", ["’"] = "'", ["“"] = '"', ["”"] = '"', ["…"] = "...", ["–"] = "--",
  ["—"] = "---", ["\u{a0}"] = " ",
}

--- Text as the engine compares it (mlsysim.book.sources.locate.normalize): typographic
--- characters plain, whitespace runs as one space, ends stripped.
local function normalize(text)
  for from, to in pairs(TYPOGRAPHIC) do text = text:gsub(from, to) end
  return (text:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function read_file(path)
  local fh = io.open(path, "rb")
  if fh == nil then return nil end
  local data = fh:read("a")
  fh:close()
  return data
end

local function read_json(path)
  local data = read_file(path)
  if data == nil then return nil end
  local ok, value = pcall(pandoc.json.decode, data, false)
  if ok and type(value) == "table" then return value end
  return nil
end

local function is_null(v) return v == nil or v == pandoc.json.null end

local function same_listing(dir, entries)
  local ok, names = pcall(pandoc.system.list_directory, dir)
  if not ok then return is_null(entries) end
  if is_null(entries) or #names ~= #entries then return false end
  table.sort(names)
  for i, name in ipairs(names) do
    if name ~= entries[i] then return false end
  end
  return true
end

local function same_map(a, b)
  local n = 0
  for k, v in pairs(a) do
    if b[k] == nil or tostring(b[k]) ~= tostring(v) then return false end
    n = n + 1
  end
  for _ in pairs(b) do n = n - 1 end
  return n == 0
end

local function manifest_holds(m, overrides, python)
  if type(m) ~= "table" or m.python ~= python then return false end
  if type(m.overrides) ~= "table" or not same_map(overrides, m.overrides) then return false end
  for k, v in pairs(m.env or {}) do
    if (os.getenv(k) or "") ~= v then return false end
  end
  for _, d in ipairs(m.dirs or {}) do
    if not same_listing(d.path, d.entries) then return false end
  end
  for _, f in ipairs(m.files or {}) do
    local data = read_file(f.path)
    if is_null(f.sha1) then
      if data ~= nil then return false end
    elseif data == nil or pandoc.utils.sha1(data) ~= f.sha1 then
      return false
    end
  end
  return true
end

--- The stored response for this chapter, or nil (then the engine is asked).
local function attrs_key(attrs)
  local parts = {}
  for k, v in pairs(attrs or {}) do parts[#parts + 1] = k .. "=" .. normalize(tostring(v)) end
  table.sort(parts)
  return table.concat(parts, "\1")
end

--- Each request item's scanned item (its index in `stored`), as the engine's Locator
--- matches them: kind and text, then attributes first; the host may show fewer items
--- (content Quarto drops for this format) or reorder them (a table's caption before its
--- rows). nil when an item is not among the scanned ones (the engine must evaluate).
local function match_stored(stored, items)
  local exact, loose, used = {}, {}, {}
  local function push(map, key, n)
    local queue = map[key]
    if queue == nil then queue = { head = 1 }; map[key] = queue end
    queue[#queue + 1] = n
  end
  for n, s in ipairs(stored) do
    for _, text in ipairs(s.texts or {}) do
      local key = tostring(s.kind) .. "\0" .. text
      push(loose, key, n)
      if type(s.attrs) == "table" then push(exact, key .. "\0" .. attrs_key(s.attrs), n) end
    end
  end
  local function take(queue)
    while queue ~= nil and queue.head <= #queue do
      local n = queue[queue.head]
      queue.head = queue.head + 1
      if not used[n] then used[n] = true; return n end
    end
    return nil
  end
  local picked = {}
  for i, item in ipairs(items) do
    if item.file ~= nil then return nil end
    local key = tostring(item.kind) .. "\0" .. normalize(item.text)
    local n = take(exact[key .. "\0" .. attrs_key(item.attrs)]) or take(loose[key])
    if n == nil then return nil end
    picked[i] = n
  end
  return picked
end

local function reuse(request)
  local store = request.project.cache .. "/project"
  local index = read_json(store .. "/manifest.json")
  if index == nil or index.schema ~= "mlsysim.project/1" or index.root ~= request.project.dir then
    return nil
  end
  if not manifest_holds(index.manifest, request.overrides, request.project.python) then
    return nil
  end
  local key = pandoc.utils.sha1(request.file):sub(1, 24)
  local entry = read_json(store .. "/" .. key .. ".json")
  if entry == nil or entry.run ~= index.run or entry.file ~= request.file then return nil end
  local picked = match_stored(entry.items or {}, request.items)
  if picked == nil then return nil end
  local results = {}
  for i, item in ipairs(request.items) do
    local result = {}
    for k, v in pairs(entry.results[picked[i]]) do result[k] = v end
    result.id = item.id
    results[i] = result
  end
  return {
    version = PROTOCOL_VERSION,
    checked = entry.checked,
    results = results,
    failures = entry.report or {},
    banner = entry.banner,
    cached = true,
    project = { first = index.first == request.file, reused = true },
  }
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
    if help then log_line("  hint: " .. help) end
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
      log_line("  hint: " .. f.hint)
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

--- Where the engine caches: MLSYSIM_CACHE_DIR, else `.mlsysim-cache` in the project.
local function cache_dir(project)
  local env = nonempty(os.getenv("MLSYSIM_CACHE_DIR"))
  if env then return absolute(env) end
  return pandoc.path.join({ project, ".mlsysim-cache" })
end

local function meta_includes(doc, block)
  local includes = doc.meta["header-includes"]
  local entry = pandoc.MetaBlocks({ block })
  if includes == nil then
    doc.meta["header-includes"] = pandoc.MetaList({ entry })
  elseif pandoc.utils.type(includes) == "List" then
    includes:insert(entry)
  else
    doc.meta["header-includes"] = pandoc.MetaList({ includes, entry })
  end
end

--- HTML pages get the extension's stylesheet (failure marks, the banner, MathML spacing):
--- an HTML dependency under Quarto; under plain pandoc, inlined in the header.
local function add_stylesheet(doc, format)
  if format ~= "html" then return end
  if has_quarto and type(quarto.doc.add_html_dependency) == "function" then
    quarto.doc.add_html_dependency({
      name = "mlsysim", version = "0.1.0", stylesheets = { "mlsysim.css" },
    })
    return
  end
  local here = PANDOC_SCRIPT_FILE and pandoc.path.directory(PANDOC_SCRIPT_FILE) or "."
  local css = read_file(pandoc.path.join({ here, "mlsysim.css" }))
  if css then meta_includes(doc, pandoc.RawBlock("html", "<style>\n" .. css .. "</style>")) end
end

--- The engine's banner of the page's failures, after the page's first heading (if any).
local function add_banner(doc, banner, format)
  if type(banner) ~= "table" then return end
  local block
  if format == "html" and nonempty(banner.html) then
    block = pandoc.RawBlock("html", banner.html)
  elseif format == "latex" and nonempty(banner.latex) then
    block = pandoc.RawBlock("latex", banner.latex)
  else
    block = pandoc.Div(pandoc.read(banner.markdown or banner.text or "", "markdown").blocks)
  end
  local at = 1
  if doc.blocks[1] and doc.blocks[1].t == "Header" then at = 2 end
  doc.blocks:insert(at, block)
end

local function process(doc)
  local items = collect(doc)
  local project = project_dir()
  -- outside a project, a document without napkin elements needs no engine; in a project
  -- render it may be the first document, which lists every failure of the book
  if #items == 0 and project == nil and not has_text_mark(doc) then return nil end
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
  local response = nil
  if project ~= nil then
    request.project = { dir = project, cache = cache_dir(project), python = interpreter() }
    response = reuse(request)
  end
  if response == nil then response = run_batch(request) end
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
    log_line("  hint: this is a bug in mlsysim: please report it with the chapter")
    os.exit(1)
  end
  if #failures > 0 then
    report(failures)
    local blocking = 0
    for _, f in ipairs(failures) do
      if severity_of(f) == "error" then blocking = blocking + 1 end
    end
    if blocking > 0 then
      local scope = request.file
      if type(response.project) == "table" and response.project.first then
        scope = "the project (every file checked; the render starts here)"
      end
      log_line(string.format(
        "mlsysim: %d failure(s) in %s; render stopped (fail-mode: warn renders anyway)",
        blocking, scope))
      os.exit(1)
    end
  end
  cite_sources = doc.meta.bibliography ~= nil
  doc.blocks = splice(doc, results, format)
  use_siunitx(doc, format, options)
  add_banner(doc, response.banner, format)
  if #items > 0 then add_stylesheet(doc, format) end
  return doc
end

return {
  { Pandoc = process },
}
