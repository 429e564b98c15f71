/**
 * Zero-shot prompt files: positive / negative prompt pairs per class, grouped by dataset.
 * The defaults ship with the package (`prompts/zero-shot.json`, editable); a user file with the
 * same layout (JSON or YAML) replaces them. Layout:
 *
 *   { "format": "g2d-zero-shot-prompts-v1", "sets": { "<dataset>": { "<class>": { "positive": [...], "negative": [...] } } } }
 */
import { z, type ZodType } from 'zod';
import { G2DError, loadConfig, parseConfig } from '@g2d-ts/core';
import defaults from '../prompts/zero-shot.json';

export interface PromptPair {
  positive: string[];
  negative: string[];
}

export type PromptSet = Record<string, PromptPair>;

export interface PromptFile {
  format: 'g2d-zero-shot-prompts-v1';
  description?: string;
  sets: Record<string, PromptSet>;
}

const nonEmpty = z.array(z.string().trim().min(1)).min(1);
export const PromptFileSchema = z
  .object({
    format: z.literal('g2d-zero-shot-prompts-v1'),
    description: z.string().optional(),
    sets: z.record(z.record(z.object({ positive: nonEmpty, negative: nonEmpty }).strict())),
  })
  .strict();

/** The prompts shipped with the package (validated). */
export function defaultPrompts(): PromptFile {
  return parseConfig<PromptFile>(structuredClone(defaults), PromptFileSchema as unknown as ZodType<PromptFile>, '@g2d-ts/heads/prompts/zero-shot.json');
}

/** A prompt file (JSON or YAML); errors name the file and the bad key. */
export function loadPrompts(file: string): PromptFile {
  return loadConfig<PromptFile>(file, PromptFileSchema as unknown as ZodType<PromptFile>);
}

/**
 * The prompt pairs of `classes` from the set `dataset` of `file` (default: the shipped
 * prompts). A missing set or class is an error that lists what the file has.
 */
export function promptsFor(dataset: string, classes: readonly string[], file: PromptFile = defaultPrompts(), source = 'zero-shot prompts'): PromptSet {
  const set = file.sets[dataset];
  if (!set) throw new G2DError(`no prompt set "${dataset}" (sets: ${Object.keys(file.sets).join(', ')}); add one to the prompt file or pass --prompts`, { source });
  const out: PromptSet = {};
  const missing = classes.filter((c) => !set[c]);
  if (missing.length) throw new G2DError(`prompt set "${dataset}" has no prompts for ${missing.join(', ')} (it has: ${Object.keys(set).join(', ')})`, { source });
  for (const c of classes) out[c] = { positive: [...set[c]!.positive], negative: [...set[c]!.negative] };
  return out;
}
