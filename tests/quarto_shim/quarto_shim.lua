--[[
quarto_shim.lua — a minimal stand-in for the `quarto` Lua module, for tests under plain pandoc.

Quarto cannot be installed offline, so the extension's Lua runs under real pandoc 3 with this
table defining only the APIs the extension calls. Like Quarto, `error()` is redefined to only
log, so a test proves the extension never relies on it to stop a render.

Environment: MLSYSIM_SHIM_INPUT_FILE overrides `quarto.doc.input_file` (Quarto gives an
absolute path of the .qmd being rendered). `quarto.project.directory` is QUARTO_PROJECT_DIR,
exactly as Quarto's own init.lua defines it (a string, nil outside a project render);
`quarto.project.offset` and `output_directory` follow from it. A project render runs pandoc
in each chapter's own folder (tests/quarto_shim/harness.py `render_project`,
scripts/render_quarto_books.sh), as Quarto does.
--]]

local shim = { latex_packages = {}, includes = {}, stylesheets = {} }

local function absolute(path)
  if path == nil or path == "-" then return nil end
  if path:sub(1, 1) == "/" then return path end
  return pandoc.path.join({ pandoc.system.get_working_directory(), path })
end

local function input_file()
  local override = os.getenv("MLSYSIM_SHIM_INPUT_FILE")
  if override ~= nil and override ~= "" then return absolute(override) end
  return absolute(PANDOC_STATE.input_files[1])
end

local HTML = { html = true, html4 = true, html5 = true, revealjs = true, epub = true }
local LATEX = { latex = true, beamer = true }

local function is_format(name)
  local base = FORMAT:match("^[%w_]+") or FORMAT
  name = name:gsub(":js$", "")
  if name == "html" then return HTML[base] == true end
  if name == "latex" or name == "pdf" then return LATEX[base] == true end
  return base == name
end

local function logger(level)
  return function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[#parts + 1] = tostring(select(i, ...)) end
    io.stderr:write(level .. table.concat(parts, " ") .. "\n")
  end
end

--- Resolve a path relative to the Lua file that calls this function (as Quarto does).
local function resolve_path(path)
  local source = debug.getinfo(2, "S").source
  local dir = source:sub(1, 1) == "@" and pandoc.path.directory(source:sub(2)) or "."
  return pandoc.path.join({ dir, path })
end

local function project_directory()
  return os.getenv("QUARTO_PROJECT_DIR")
end

local function project_offset()
  local dir = project_directory()
  local input = input_file()
  if dir == nil or input == nil then return nil end
  local rel = pandoc.path.make_relative(pandoc.path.directory(input), dir)
  if rel == "." then return "." end
  local _, depth = rel:gsub("[^/]+", "")
  return string.rep("../", depth):sub(1, -2)
end

quarto = {
  project = {
    directory = project_directory(),
    offset = project_offset(),
    output_directory = project_directory() and pandoc.path.join({ project_directory(), "_book" }),
  },
  doc = {
    input_file = input_file(),
    is_format = is_format,
    use_latex_package = function(package, options)
      shim.latex_packages[#shim.latex_packages + 1] = { package, options }
    end,
    include_text = function(location, text)
      shim.includes[#shim.includes + 1] = { location, text }
    end,
    --- Quarto copies a dependency's stylesheets next to the page and links them; the shim
    --- inlines them (paths relative to the calling Lua file, as Quarto resolves them).
    add_html_dependency = function(dep)
      local source = debug.getinfo(2, "S").source
      local dir = source:sub(1, 1) == "@" and pandoc.path.directory(source:sub(2)) or "."
      for _, sheet in ipairs(dep.stylesheets or {}) do
        local path = type(sheet) == "table" and sheet.path or sheet
        shim.stylesheets[#shim.stylesheets + 1] = pandoc.path.join({ dir, path })
      end
    end,
  },
  log = {
    output = logger(""),
    info = logger("INFO: "),
    debug = logger("DEBUG: "),
    warning = logger("WARNING: "),
    error = logger("ERROR: "),
  },
  utils = {
    resolve_path = resolve_path,
    stringify = pandoc.utils.stringify,
  },
  _shim = shim,
}

-- Quarto redefines error() to only log (the render goes on).
error = function(message)
  io.stderr:write("ERROR: " .. tostring(message) .. "\n")
end

local function add_header(doc, block)
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

--- Quarto reads some Div attributes as Markdown before its filters run: a callout's `title`
--- becomes its title, a float's `fig-cap` / `tbl-cap` / `lst-cap` its caption (tables and
--- listings take theirs at the top, figures at the bottom, Quarto's default locations).
--- The shim does the same, so items written inside those attributes reach the filter.
local CAPTIONS = { title = "start", ["tbl-cap"] = "start", ["lst-cap"] = "start",
  ["fig-cap"] = "end" }
local CAPTION_ORDER = { "title", "tbl-cap", "lst-cap", "fig-cap" }

--- Quarto drops `.content-visible` / `.content-hidden` divs whose `when-format` /
--- `unless-format` exclude the output format before its filters run (so the mlsysim filter
--- never sees their items).
local function conditional(div)
  local visible = div.classes:includes("content-visible")
  local hidden = div.classes:includes("content-hidden")
  if not visible and not hidden then return nil end
  local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
  local shown = true
  if when ~= nil then shown = is_format(when) end
  if unless ~= nil then shown = shown and not is_format(unless) end
  if hidden and (when ~= nil or unless ~= nil) then shown = not shown end
  if not shown then return {} end
  return div.content
end

--- A code listing (`#lst-…` id) takes its `lst-cap` as a Markdown caption, above it
--- (Quarto's listings); other code blocks' `lst-cap` is not read.
local function listing(block)
  local caption = block.attributes["lst-cap"]
  if block.identifier:match("^lst%-") == nil or caption == nil or caption == "" then
    return nil
  end
  local inlines = pandoc.utils.blocks_to_inlines(pandoc.read(caption, "markdown").blocks)
  block.attributes["lst-cap"] = nil
  local id = block.identifier
  block.identifier = ""
  return pandoc.Div({ pandoc.Div({ pandoc.Plain(inlines) }, { class = "quarto-lst-cap" }), block },
    pandoc.Attr(id, { "listing" }))
end

function shim.attributes_filter()
  return {
    CodeBlock = listing,
    Div = function(div)
      local kept = conditional(div)
      if kept ~= nil then return kept end
      local changed = false
      for _, key in ipairs(CAPTION_ORDER) do
        local value = div.attributes[key]
        if value ~= nil and value ~= "" then
          local inlines = pandoc.utils.blocks_to_inlines(pandoc.read(value, "markdown").blocks)
          local block = pandoc.Div({ pandoc.Plain(inlines) }, { class = "quarto-" .. key })
          if CAPTIONS[key] == "start" then
            div.content:insert(1, block)
          else
            div.content:insert(block)
          end
          div.attributes[key] = nil
          changed = true
        end
      end
      if changed then return div end
      return nil
    end,
  }
end

--- A filter that adds what use_latex_package/include_text/add_html_dependency recorded, as
--- Quarto would.
function shim.finalize_filter()
  return {
    Pandoc = function(doc)
      if #shim.stylesheets > 0 and is_format("html") then
        for _, path in ipairs(shim.stylesheets) do
          local fh = io.open(path, "r")
          if fh then
            add_header(doc, pandoc.RawBlock("html", "<style>\n" .. fh:read("a") .. "</style>"))
            fh:close()
          end
        end
        return doc
      end
      if FORMAT:match("^latex") == nil and FORMAT:match("^beamer") == nil then return nil end
      local lines = {}
      for _, entry in ipairs(shim.latex_packages) do
        local opts = entry[2] and ("[" .. entry[2] .. "]") or ""
        lines[#lines + 1] = "\\usepackage" .. opts .. "{" .. entry[1] .. "}"
      end
      for _, entry in ipairs(shim.includes) do
        if entry[1] == "in-header" then lines[#lines + 1] = entry[2] end
      end
      if #lines == 0 then return nil end
      local block = pandoc.MetaBlocks({ pandoc.RawBlock("latex", table.concat(lines, "\n")) })
      local includes = doc.meta["header-includes"]
      if includes == nil then
        doc.meta["header-includes"] = pandoc.MetaList({ block })
      elseif pandoc.utils.type(includes) == "List" then
        includes:insert(block)
      else
        doc.meta["header-includes"] = pandoc.MetaList({ includes, block })
      end
      return doc
    end,
  }
end

return shim
