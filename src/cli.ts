#!/usr/bin/env node
/** The CLI's entry point (dist/cli/index.js); see command-line.ts. */
import { main } from './command-line.js';

process.exitCode = await main(process.argv.slice(2));
