/**
 * oclif's `command_not_found` hook (package.json `oclif.hooks`): `pyrq stauts` or
 * `pyrq diff sched` is a usage error (exit 64) with the closest command, not oclif's
 * "command stauts not found" with exit 2, which pyrq's docs give to "changes pending".
 */
import { exit } from '@oclif/core/errors';
import type { Hook } from '@oclif/core/hooks';
import { USAGE_EXIT } from '../../src/errors.js';
import { commandNotFound, printUsageError } from '../usage-error.js';

const hook: Hook<'command_not_found'> = async function ({ id, argv, config }) {
  const commands = config.commands.filter((c) => !c.hidden);
  const err = commandNotFound(config.bin, id, commands, argv ?? []);
  printUsageError(err, (argv ?? []).includes('--json'));
  // Printed already: oclif's handler prints nothing for an exit error, and exits with its code.
  exit(USAGE_EXIT);
};

export default hook;
