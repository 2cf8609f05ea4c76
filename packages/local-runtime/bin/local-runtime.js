#!/usr/bin/env node
// The `local-runtime` command. A committed, executable file rather than a link to dist/cli.js: npm links bins
// at install time, before `npm run build` has made dist/ (and tsc writes it without the executable bit).
import "../dist/cli.js";
