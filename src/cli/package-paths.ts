// Paths inside the installed package, independent of the working directory.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/src/cli/ → the package root.
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const bundledModels = path.join(packageRoot, 'models');
