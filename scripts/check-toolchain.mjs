// Runs first in `npm install`: the native engine needs CMake and a C++17 compiler, and a missing one
// should stop the install with a message saying what to install, not with a wall of build output.
import { spawnSync } from 'node:child_process';

function version(command, args = ['--version']) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : null;
}

const problems = [];
const cmake = version('cmake');
const cmakeVersion = cmake?.match(/cmake version (\d+)\.(\d+)/);
if (!cmakeVersion) {
  problems.push('CMake (3.18 or newer) was not found on PATH. Install it, e.g. `apt-get install cmake`, `brew install cmake`, or from https://cmake.org/download/.');
} else if (Number(cmakeVersion[1]) < 3 || (Number(cmakeVersion[1]) === 3 && Number(cmakeVersion[2]) < 18)) {
  problems.push(`CMake ${cmakeVersion[1]}.${cmakeVersion[2]} is too old: inferd needs 3.18 or newer.`);
}

const compilers = [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean);
const compiler = compilers.find((c) => version(c) !== null);
if (!compiler) {
  problems.push('No C++ compiler was found (tried $CXX, c++, g++, clang++). Install one with C++17 support: `apt-get install g++` (GCC 8+), `xcode-select --install`, or clang 7+.');
} else {
  const probe = spawnSync(compiler, ['-std=c++17', '-x', 'c++', '-fsyntax-only', '-'], {
    input: '#include <optional>\nint main() { std::optional<int> x; return x.value_or(0); }\n',
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    problems.push(`The C++ compiler '${compiler}' cannot compile C++17. Install GCC 8+ or clang 7+.`);
  }
}

if (problems.length > 0) {
  console.error('\ninferd cannot build its native engine:\n');
  for (const p of problems) console.error(`  - ${p}`);
  console.error('');
  process.exit(1);
}
