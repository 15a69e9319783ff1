--[[
shortcode_probe.lua — calls the extension's shortcode handlers directly, with arguments
shaped as Quarto passes them (args/kwargs values are Inlines, a missing kwarg is empty
Inlines), and replaces the document with what they return, one Div per case, for
tests/test_quarto_shortcodes.py. With PROBE_CASE=empty it calls `napkin` without arguments.
--]]

local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
dofile(pandoc.path.join({ here, "quarto_shim.lua" }))
local ext = pandoc.path.join({ here, "..", "..", "quarto_ext", "_extensions", "mlsysim" })
local handlers = dofile(pandoc.path.join({ ext, "shortcodes.lua" }))

local function kwargs(tbl)
  local out = setmetatable({}, { __index = function() return pandoc.Inlines({}) end })
  for k, v in pairs(tbl) do rawset(out, k, pandoc.Inlines({ pandoc.Str(v) })) end
  return out
end

local function args(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = pandoc.Inlines(pandoc.Str(v)) end
  return out
end

local CASES = {
  { "napkin-inline", "napkin", { "ridge_point(H100, 'bf16')" },
    { unit = "FLOP/B", ["sig-figs"] = "2" }, "inline" },
  { "napkin-block", "napkin", { "H100.memory.bandwidth" }, {}, "block" },
  { "napkin-text", "napkin", { "H100.tdp" }, {}, "text" },
  { "claim-tilde", "claim", { "300 FLOP/B ~ ridge @ 10%" }, {}, "inline" },
  { "claim-of", "claim", { "4 ms" }, { of = "t_token", tol = "10%" }, "inline" },
}

function Pandoc(doc)
  if os.getenv("PROBE_CASE") == "empty" then
    handlers.napkin({}, kwargs({}), doc.meta, {}, "inline")
    return doc
  end
  local blocks = {}
  for _, case in ipairs(CASES) do
    local id, name, positional, named, context = table.unpack(case)
    local result = handlers[name](args(positional), kwargs(named), doc.meta, positional, context)
    local content
    if type(result) == "string" then
      content = { pandoc.Plain({ pandoc.Str(result) }) }
    elseif pandoc.utils.type(result) == "Block" then
      content = { result }
    else
      content = { pandoc.Plain({ result }) }
    end
    blocks[#blocks + 1] = pandoc.Div(content, pandoc.Attr(id))
  end
  return pandoc.Pandoc(blocks, doc.meta)
end
