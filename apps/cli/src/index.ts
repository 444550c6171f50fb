// @onebit/cli — programmatic entry (the `onebit` binary is bin.ts)
export { buildProgram, main, VERSION } from "./program";
export { CliError } from "./util/cli-error";
export { ProgressBar, formatDuration, formatRate } from "./util/progress-bar";
export { histogram } from "./charts/histogram";
export { terminalHistogram } from "./charts/terminal-chart";
export { svgHistograms } from "./charts/svg-chart";
export { pngHistograms, encodePng } from "./charts/png-chart";
