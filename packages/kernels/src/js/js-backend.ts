/**
 * The `js` backend: every op in plain TypeScript. Slow and obviously correct — the oracle the conformance
 * suite compares every other backend against.
 */
import type { Backend, PackedLinearWeight, PreparedWeight } from "../backend";
import { KernelInputError } from "../backend";
import { registerKernel } from "../kernel-registry";
import { checkWeight } from "../validate-inputs";
import { attentionScoresImpl, attentionValuesImpl } from "./attention";
import { bitLinearImpl } from "./bit-linear";
import { dequantizeUnsignedImpl } from "./dequantize-unsigned";
import { quantizeRowsImpl } from "./quantize-rows";
import { type JsPreparedDense, prepareDenseJs, denseJs } from "./dense-prepared";
import { matmulF32Impl } from "./matmul-f32";
import { rmsNormQuantizeImpl } from "./rms-norm-quantize";
import { ropeImpl } from "./rope";
import { softmaxImpl } from "./softmax";

interface JsPreparedWeight extends PreparedWeight {
  packed: PackedLinearWeight;
}

registerKernel({ kernelName: "BitLinear", backendName: "js", description: "scalar loops over packed codes", impl: bitLinearImpl });
registerKernel({ kernelName: "RmsNormQuantize", backendName: "js", description: "RMSNorm then @onebit/quant", impl: rmsNormQuantizeImpl });
registerKernel({ kernelName: "MatmulF32", backendName: "js", description: "scalar f64-accumulated loops", impl: matmulF32Impl });
registerKernel({ kernelName: "Rope", backendName: "js", description: "scalar", impl: ropeImpl });
registerKernel({ kernelName: "Softmax", backendName: "js", description: "scalar", impl: softmaxImpl });
registerKernel({ kernelName: "DequantizeUnsigned", backendName: "js", description: "bit-stream reader", impl: dequantizeUnsignedImpl });
registerKernel({ kernelName: "QuantizeRows", backendName: "js", description: "@onebit/quant quantizeInt8 / quantizeInt4 per token", impl: quantizeRowsImpl });
registerKernel({ kernelName: "Dense", backendName: "js", description: "f32 matmul or W8A16 integer blocks, scalar", impl: prepareDenseJs });
registerKernel({ kernelName: "Attention", backendName: "js", description: "scalar float32, fixed summation order", impl: attentionScoresImpl });

export function createJsBackend(): Backend {
  return {
    name: "js",
    threads: 1,
    prepareWeight(w) {
      checkWeight(w);
      const prepared: JsPreparedWeight = { backend: "js", kind: w.kind, outFeatures: w.outFeatures, inFeatures: w.inFeatures, bytes: w.data.length + w.scales.length * 4, packed: w };
      return prepared;
    },
    bitLinear(w, x, options) {
      if (w.backend !== "js") throw new KernelInputError(`bitLinear: weight was prepared by the ${w.backend} backend, not js`);
      return bitLinearImpl((w as JsPreparedWeight).packed, x, options);
    },
    quantizeRows: quantizeRowsImpl,
    dequantizeUnsigned: dequantizeUnsignedImpl,
    rmsNormQuantize: rmsNormQuantizeImpl,
    matmulF32: matmulF32Impl,
    rope: ropeImpl,
    softmax: softmaxImpl,
    prepareDense: (w, out, inF, format) => prepareDenseJs("js", w, out, inF, format),
    dense(w, x, tokens, out) {
      if (w.backend !== "js") throw new KernelInputError(`dense: weight was prepared by the ${w.backend} backend, not js`);
      return denseJs(w as JsPreparedDense, x, tokens, out);
    },
    attentionScores: attentionScoresImpl,
    attentionValues: attentionValuesImpl,
    allocF32: (length) => new Float32Array(length),
    freeF32() {},
    dispose() {},
  };
}
