#!/usr/bin/env node
// The `nest-queue` command. Nest's decorators, loaded with the library, need the metadata API.
import 'reflect-metadata';
import { buildProgram } from './program.js';

void buildProgram().parseAsync(process.argv);
