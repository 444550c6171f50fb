// @onebit/quant — public API
export { roundHalfEven } from "./round-half-even";
