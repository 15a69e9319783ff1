--[[
shortcodes.lua — `{{< napkin "expr" >}}`, `{{< claim "300 FLOP/B ~ ridge" >}}` and
`{{< napkin-eq "amdahl(p=0.95, speedup=247)" >}}` for Quarto.

Shortcodes are sugar: each handler returns a placeholder Span (class `napkin` or `claim`) that
the `mlsysim.lua` filter (registered `at: post-quarto`, i.e. after shortcodes are resolved)
collects with every other napkin element of the document into one batch. Nothing is evaluated
here.

  {{< napkin "ridge_point(H100, 'bf16')" unit="FLOP/B" sig-figs="2" style="plain" >}}
  {{< claim "300 FLOP/B ~ ridge @ 10%" >}}
  {{< claim "300 FLOP/B" of="ridge" tol="10%" >}}
  {{< napkin-eq "ridge_point(H100, 'bf16')" >}}   (a derivation, as display math)
  {{< napkin-formula ridge_point >}}              (a formula card, as a block)
  {{< napkin-registry "H100, A100" fields="memory.bandwidth, tdp" caption="…" >}}
                                                  (registry entries × fields, sources linked)

Use single quotes inside the expression (the shortcode argument is double-quoted).
Handler signature (Quarto extension API): (args, kwargs, meta, raw_args, context); args and
kwargs values are Inlines, a missing kwarg is empty Inlines; context is "block", "inline" or
"text".
--]]

local PASSED_KWARGS = {
  "unit", "sig-figs", "style", "of", "tol", "notation", "fields", "registry", "caption", "sig",
}

local function text_of(value)
  if value == nil then return "" end
  if type(value) == "string" then return value end
  return pandoc.utils.stringify(value)
end

--- The first positional argument as written: raw_args keeps the author's straight quotes.
local function first_arg(args, raw_args, name)
  local text = raw_args and raw_args[1] or nil
  if text == nil or text == "" then text = text_of(args and args[1]) end
  if text == "" then
    -- Quarto's error() only logs; a shortcode without its argument must stop the render
    io.stderr:write(string.format(
      'error[mlsysim.error]: {{< %s >}} needs an argument, e.g. {{< %s "…" >}}\n', name, name))
    os.exit(1)
  end
  return text
end

local function attributes(kwargs, extra)
  local attrs = {}
  for _, key in ipairs(PASSED_KWARGS) do
    local value = text_of(kwargs and kwargs[key])
    if value ~= "" then attrs[key] = value end
  end
  for key, value in pairs(extra) do
    attrs[key] = value
  end
  return attrs
end

--- In a "text" context (a code block, inline code, a raw block: Quarto expands shortcodes
--- there as plain text), and for a block shortcode inside a sentence, no item can be shown. The engine's scan finds the shortcode and
--- reports it at its line and column (as `mlsysim check` does); the marker tells the filter
--- to ask the engine even when the document has no other item.
local TEXT_MARK = "⟨mlsysim: shortcode not shown here⟩"

local function placeholder(class, fallback, attrs, context)
  if context == "text" then return TEXT_MARK end
  local span = pandoc.Span(fallback, pandoc.Attr("", { class }, attrs))
  if context == "block" then return pandoc.Para({ span }) end
  return span
end

local function napkin(args, kwargs, _meta, raw_args, context)
  if context == "text" then return TEXT_MARK end
  local expr = first_arg(args, raw_args, "napkin")
  -- fallback content shows the expression if the filter is not active
  return placeholder("napkin", { pandoc.Code(expr) }, attributes(kwargs, { expr = expr }),
    context)
end

local function claim(args, kwargs, _meta, raw_args, context)
  if context == "text" then return TEXT_MARK end
  local text = first_arg(args, raw_args, "claim")
  local stated = text:match("^(.-)%s*~") or text
  return placeholder("claim", { pandoc.Str(stated) }, attributes(kwargs, { claim = text }),
    context)
end

local function napkin_eq(args, kwargs, _meta, raw_args, context)
  if context == "text" then return TEXT_MARK end
  local expr = first_arg(args, raw_args, "napkin-eq")
  return placeholder("napkin-eq", { pandoc.Code(expr) }, attributes(kwargs, { expr = expr }),
    context)
end

--- A formula card or a registry table: a block placeholder (a Div) the filter collects.
local function reference(class)
  return function(args, kwargs, _meta, raw_args, context)
    if context == "text" then return TEXT_MARK end
    local text = first_arg(args, raw_args, class)
    local attrs = attributes(kwargs, { expr = text })
    if context ~= "block" then
      -- a card or table is a block: inside a paragraph there is nowhere to put it; the
      -- engine's scan reports it at its place (the mark makes the filter ask the engine)
      return pandoc.Code(TEXT_MARK)
    end
    return pandoc.Div({ pandoc.Para({ pandoc.Code(text) }) }, pandoc.Attr("", { class }, attrs))
  end
end

--- `{{< napkin-table >}}` and `{{< napkin-plot >}}` do not exist (a table or chart needs one
--- line per column or series): a placeholder the filter sends to the engine like any item, so
--- the render fails at the shortcode's line and column with what to write instead, as
--- `mlsysim check` reports it.
local function unsupported(class)
  return function(args, _kwargs, _meta, raw_args, context)
    local text = raw_args and raw_args[1] or text_of(args and args[1])
    local attrs = { shortcode = class, expr = text }
    if context == "block" then
      return pandoc.Div({}, pandoc.Attr("", { class }, attrs))
    end
    return placeholder(class, {}, attrs, context)
  end
end

return {
  ["napkin-table"] = unsupported("napkin-table"),
  ["napkin-plot"] = unsupported("napkin-plot"),
  ["napkin-formula"] = reference("napkin-formula"),
  ["napkin-registry"] = reference("napkin-registry"),
  ["napkin"] = napkin,
  ["claim"] = claim,
  ["napkin-eq"] = napkin_eq,
}
