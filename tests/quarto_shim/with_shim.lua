--[[
with_shim.lua — run the mlsysim Quarto extension under plain pandoc as Quarto would:
the `quarto` shim, then shortcodes and the Div attributes Quarto reads as Markdown
(titles, captions), then the mlsysim filter (post-quarto), then what the
shim recorded (LaTeX packages). Pandoc gives every `-L` filter its own Lua state, so all of
this is loaded here, in one state:

    pandoc -L tests/quarto_shim/with_shim.lua chapter.qmd -o chapter.html

MLSYSIM_QUARTO_EXT overrides the extension directory.
--]]

local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
local repo = pandoc.path.normalize(pandoc.path.join({ here, "..", ".." }))
local ext = os.getenv("MLSYSIM_QUARTO_EXT")
if ext == nil or ext == "" then
  ext = pandoc.path.join({ repo, "quarto_ext", "_extensions", "mlsysim" })
end

local shim = dofile(pandoc.path.join({ here, "quarto_shim.lua" }))
local runner = dofile(pandoc.path.join({ here, "shortcode_runner.lua" }))
local handlers = dofile(pandoc.path.join({ ext, "shortcodes.lua" }))
local filters = dofile(pandoc.path.join({ ext, "mlsysim.lua" }))

local chain = { runner.filter(handlers), shim.attributes_filter() }
for _, f in ipairs(filters) do chain[#chain + 1] = f end
chain[#chain + 1] = shim.finalize_filter()
return chain
