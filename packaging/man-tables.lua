-- pandoc filter for the man pages: a table becomes a definition list (the first cell is the term,
-- the other cells follow as "header: cell"), since tbl cannot fit the docs' wide tables into a
-- terminal's width (groff warns "cannot adjust line", and lintian with it).
function Table(t)
  local heads = {}
  if t.head and t.head.rows and t.head.rows[1] then
    for i, c in ipairs(t.head.rows[1].cells) do heads[i] = pandoc.utils.stringify(c.contents) end
  end
  local items = {}
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      local term = pandoc.utils.blocks_to_inlines(row.cells[1].contents)
      local defs = {}
      for i = 2, #row.cells do
        local inl = pandoc.utils.blocks_to_inlines(row.cells[i].contents)
        if heads[i] and heads[i] ~= "" and #row.cells > 2 then
          table.insert(inl, 1, pandoc.Space())
          table.insert(inl, 1, pandoc.Str(heads[i] .. ":"))
        end
        table.insert(defs, pandoc.Para(inl))
      end
      table.insert(items, {term, {defs}})
    end
  end
  return pandoc.DefinitionList(items)
end
