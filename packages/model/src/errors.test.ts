import { OnebitError } from "@onebit/quant";
import { describe, expect, it } from "vitest";
import { ArchitectureError } from "./architectures/registry";
import { ExportDestinationError } from "./export/folder-commit";
import { GgufExportError } from "./export/gguf-export";
import { HfExportError } from "./export/hf-export";
import { ModelSpecError, parseModelSpec } from "./model-spec";
import { SafetensorsError } from "./safetensors";
import { ByteRangeError, memoryByteSource } from "./weights/byte-source";
import { ModelFileError } from "./weights/weight-source";

describe("errors", () => {
  it("every error the model package throws on purpose is a OnebitError with a stable code", async () => {
    const cases: Array<[Error, string]> = [
      [new ModelSpecError("hidden_size", "x"), "MODEL_SPEC"],
      [new ModelFileError("f", "k", "x"), "MODEL_FILE"],
      [new ByteRangeError("f", "x"), "BYTE_RANGE"],
      [new SafetensorsError("f", "x"), "SAFETENSORS"],
      [new ArchitectureError("x"), "ARCHITECTURE"],
      [new GgufExportError("x"), "GGUF_EXPORT"],
      [new HfExportError("x"), "HF_EXPORT"],
      [new ExportDestinationError("x"), "EXPORT_DESTINATION"],
    ];
    for (const [e, code] of cases) {
      expect(e).toBeInstanceOf(OnebitError);
      expect((e as OnebitError).code).toBe(code);
    }
    const thrown = (() => {
      try {
        parseModelSpec({ hidden_size: -1 });
      } catch (e) {
        return e;
      }
    })();
    expect((thrown as OnebitError).code).toBe("MODEL_SPEC");
    await expect(memoryByteSource(new Uint8Array(4), "m").read(2, 4)).rejects.toMatchObject({ code: "BYTE_RANGE" });
  });
});
