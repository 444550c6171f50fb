import { describe, expect, it } from "vitest";
import { BYTE_TO_CHAR, bytesToUnicode, CHAR_TO_BYTE, textToUnicode, unicodeToBytes } from "./bytes-to-unicode";

describe("GPT-2 bytes_to_unicode", () => {
  it("maps printable bytes to themselves and the rest to U+0100 onwards, one to one", () => {
    expect(BYTE_TO_CHAR[0x41]).toBe("A");
    expect(BYTE_TO_CHAR[0x20]).toBe("Ġ"); // U+0120
    expect(BYTE_TO_CHAR[0x0a]).toBe("Ċ"); // U+010A
    expect(BYTE_TO_CHAR[0x00]).toBe("\u0100");
    expect(BYTE_TO_CHAR[0xad]).toBe("\u0143"); // the soft hyphen, last of the 68 remapped bytes
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(CHAR_TO_BYTE.get("Ġ")).toBe(0x20);
  });

  it("round-trips text through its UTF-8 bytes", () => {
    const text = " héllo\n€😀";
    const u = textToUnicode(text);
    expect(u).toBe("ĠhÃ©lloĊâĤ¬ðŁĺĢ");
    expect(new TextDecoder().decode(unicodeToBytes(u) as Uint8Array)).toBe(text);
    expect(bytesToUnicode(new TextEncoder().encode(text))).toBe(u);
    expect(unicodeToBytes("ab c")).toEqual({ badIndex: 2 });
  });
});
