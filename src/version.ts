/**
 * pyrq's version, from package.json: one place, so `ping` and `status` over the socket
 * and the CLI's `--version` can never disagree. Read from the package root (not
 * imported as JSON: the compiler would copy package.json into dist/, where it would be
 * taken for the package root).
 */
import { packageText } from './package-files.js';

export const version: string = (JSON.parse(packageText('package.json')) as { version: string }).version;
