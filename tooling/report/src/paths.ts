/**
 * Where the report reads and writes: docs/report/ (README.md, figures/, results/ — the cached JSON that is
 * committed, so `pnpm report` re-renders without retraining). ONEBIT_REPORT_DIR points it elsewhere (a test's
 * temporary folder, or runs made from a clean snapshot of the repository that should land in this checkout).
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, "../../..");
export const REPORT_DIR = process.env.ONEBIT_REPORT_DIR ?? join(REPO_ROOT, "docs/report");
export const RESULTS_DIR = join(REPORT_DIR, "results");
export const FIGURES_DIR = join(REPORT_DIR, "figures");
