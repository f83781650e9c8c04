#!/usr/bin/env node
// The pyrq CLI entry point: oclif discovers the compiled commands in dist/cli/commands.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
