// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { AgainstDto } from "./AgainstDto";
import type { ClassDto } from "./ClassDto";
import type { RegionDto } from "./RegionDto";

/**
 * A version's label statistics for its Insight section: the source and why it was chosen,
 * classes overall and per split, the histogram drawn, what is wrong, and with a comparison how
 * the classes moved.
 */
export type InsightDto = { 
/**
 * `project/name@semver`.
 */
version: string, 
/**
 * `imagefolder`, `csv`, `coco`, `yolo`, `voc`, or `none` when nothing fits.
 */
format: string, 
/**
 * The label source as `--labels` spells it (`imagefolder`, `coco:FILE`...), to change it.
 */
labels: string, evidence: Array<string>, classes: Array<ClassDto>, 
/**
 * Split names, training first; each class's `splits` follows this order.
 */
splitNames: Array<string>, images: number, unlabelled: number, instances: number, 
/**
 * "cat has 13× the instances of fox", when over the warning ratio.
 */
imbalance: string | null, 
/**
 * Image sizes in a sentence, when read.
 */
sizes: string | null, 
/**
 * Each naming its file (and line): "labels/a.txt:3: class id 9 is not in names".
 */
warnings: Array<string>, 
/**
 * The class histogram (per split, stacked).
 */
svg: string, 
/**
 * Where each class's bar is on it, with its counts: hover areas.
 */
regions: Array<RegionDto>, 
/**
 * Nothing was read: every figure came from the cache.
 */
cached: boolean, against: AgainstDto | null, };
