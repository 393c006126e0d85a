-- End-to-end check of `rpol lsp` in Neovim: open a policy with a misspelt
-- feature, wait for the server's diagnostics and print their codes.
--
--   RPOL_BIN=target/debug/rpol RPOL_FILE=tests/nvim/misspelt/policy.rpol \
--     nvim --headless --clean -u NONE -c "luafile tests/nvim/diagnostics.lua"
--
-- (`nvim -l tests/nvim/diagnostics.lua` works too on Neovim 0.9 and later.)
-- Prints `codes: E0201` and exits 0, or prints why not and exits 1.
-- Works on Neovim 0.7 (Debian 12) and later: `vim.lsp.start` is used where it
-- exists, `vim.lsp.start_client` + `vim.lsp.buf_attach_client` before 0.8.

local function finish(status, message)
  io.stdout:write(message .. "\n")
  io.stdout:flush()
  os.exit(status)
end

local rpol = os.getenv("RPOL_BIN")
local file = os.getenv("RPOL_FILE")
if not rpol or not file then
  finish(1, "set RPOL_BIN and RPOL_FILE")
end

vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
vim.bo[buf].filetype = "rpol"

local config = {
  name = "rpol",
  cmd = { rpol, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":p:h"),
}
local client_id
if vim.lsp.start then
  client_id = vim.lsp.start(config, { bufnr = buf })
else
  client_id = vim.lsp.start_client(config)
  if client_id then
    vim.lsp.buf_attach_client(buf, client_id)
  end
end
if not client_id then
  finish(1, "could not start " .. rpol .. " lsp")
end

local ok = vim.wait(30000, function()
  return #vim.diagnostic.get(buf) > 0
end, 50)
if not ok then
  finish(1, "no diagnostics within 30 s")
end

local codes = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(codes, tostring(d.code))
end
table.sort(codes)
vim.lsp.stop_client(client_id)
finish(0, "codes: " .. table.concat(codes, ","))
