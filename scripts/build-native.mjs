// Builds the native engine with cmake-js in Release: the N-API addon (build/Release/inferd.node), the
// inferd-bench harness and the native tests. Node-API headers come from the node-api-headers package
// (package.json "binary.napi_versions"), so nothing is downloaded.
//
// Environment:
//   INFERD_NATIVE_ARCH=0     build portable code instead of tuning for this CPU (-march=native)
//   INFERD_BUILD_TESTS=0     skip the native tests
//   INFERD_CMAKE_ARGS="..."  extra -D definitions for CMake, space-separated (e.g. "CMAKE_BUILD_TYPE=Debug")
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');

const off = (name) => ['0', 'off', 'false', 'no'].includes(String(process.env[name] ?? '').toLowerCase());
const defines = [
  `INFERD_NATIVE_ARCH=${off('INFERD_NATIVE_ARCH') ? 'OFF' : 'ON'}`,
  `INFERD_BUILD_TESTS=${off('INFERD_BUILD_TESTS') ? 'OFF' : 'ON'}`,
  ...(process.env.INFERD_CMAKE_ARGS ?? '').split(/\s+/).filter(Boolean),
];

const args = [cmakeJs, 'compile', '--config', 'Release', '--parallel', String(availableParallelism()),
  ...defines.map((d) => `--CD${d}`)];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
