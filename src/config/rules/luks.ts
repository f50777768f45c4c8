// Rules for storage.luks: names, labels, devices, key files, clevis (custom, tang, tpm2) and CEX.
import type { IssuePath } from "../issues.ts";
import { MESSAGES } from "../messages.ts";
import type { Clevis, Luks, Tang } from "../types.ts";
import { byteLength, isBlank, type RuleContext } from "./context.ts";
import { parseUrl } from "./go_url.ts";
import { checkResource } from "./resource.ts";

/** Validates every LUKS volume. */
export function checkLuksVolumes(ctx: RuleContext, volumes: readonly Luks[]): void {
  volumes.forEach((l, i) => checkLuks(ctx, ["storage", "luks", i], l));
}

/** Whether any clevis binding is configured (custom pin, tang, tpm2 or a threshold). */
export function isClevisPresent(c: Clevis | null | undefined): boolean {
  if (!c) return false;
  return !isBlank(c.custom?.pin) || (c.tang ?? []).length > 0 || c.tpm2 === true || (c.threshold != null && c.threshold !== 0);
}

function checkLuks(ctx: RuleContext, at: IssuePath, l: Luks): void {
  const name = l.name ?? "";
  if (name.includes("/")) ctx.error([...at, "name"], MESSAGES.luksNameSlash(name));
  if (!isBlank(l.label)) {
    const bytes = byteLength(l.label!);
    if (bytes > 47) ctx.error([...at, "label"], MESSAGES.luksLabelTooLong(bytes));
  }
  if (isBlank(l.device)) ctx.error([...at, "device"], MESSAGES.luksDeviceRequired());
  else ctx.requireAbsolutePath([...at, "device"], l.device!, "device");
  if (l.keyFile) checkResource(ctx, [...at, "keyFile"], l.keyFile);

  const clevis = l.clevis;
  if (clevis) {
    const others = (clevis.tang ?? []).length > 0 || clevis.tpm2 === true || (clevis.threshold != null && clevis.threshold !== 0);
    // Spec 3.2 had `custom` as an all-or-nothing object; later specs look at its pin.
    const hasCustom = ctx.atLeast("3.3.0") ? !isBlank(clevis.custom?.pin) : clevis.custom != null;
    if (hasCustom && others) ctx.error([...at, "clevis"], MESSAGES.clevisCustomWithOthers());
    // Accepted by Ignition's validation, but clevis then refuses to bind.
    const pins = (clevis.tang ?? []).length + (clevis.tpm2 === true ? 1 : 0);
    if (!hasCustom && clevis.threshold != null && clevis.threshold > pins && pins > 0) {
      ctx.warning([...at, "clevis", "threshold"], MESSAGES.clevisThresholdTooHigh(clevis.threshold, pins));
    }
    if (clevis.custom) checkClevisCustom(ctx, [...at, "clevis", "custom"], clevis.custom);
    (clevis.tang ?? []).forEach((t, k) => checkTang(ctx, [...at, "clevis", "tang", k], t));
  }

  if (l.cex?.enabled === true) {
    if (isClevisPresent(clevis)) ctx.error([...at, "cex"], MESSAGES.cexWithClevis());
    if (!isBlank(l.keyFile?.source)) ctx.error([...at, "cex"], MESSAGES.cexWithKeyFile());
  }
}

const KNOWN_PINS = ["tpm2", "tang", "sss"];

function checkClevisCustom(ctx: RuleContext, at: IssuePath, custom: NonNullable<Clevis["custom"]>): void {
  const pin = custom.pin ?? "";
  const config = custom.config ?? "";
  if (ctx.atLeast("3.3.0")) {
    if (pin === "" && config === "" && custom.needsNetwork !== true) return;
    if (pin === "") ctx.error([...at, "pin"], MESSAGES.clevisPinRequired());
    // Spec 3.6 accepts any pin name (new clevis pins need no config change).
    else if (!ctx.atLeast("3.6.0") && !KNOWN_PINS.includes(pin)) ctx.error([...at, "pin"], MESSAGES.clevisPinUnknown(pin, ctx.version, KNOWN_PINS));
  } else {
    if (pin === "" && config === "") return;
    if (!KNOWN_PINS.includes(pin)) ctx.error([...at, "pin"], pin === "" ? MESSAGES.clevisPinRequired() : MESSAGES.clevisPinUnknown(pin, ctx.version, KNOWN_PINS));
  }
  if (config === "") ctx.error([...at, "config"], MESSAGES.clevisConfigRequired());
}

function checkTang(ctx: RuleContext, at: IssuePath, t: Tang): void {
  const url = t.url ?? "";
  const parsed = parseUrl(url);
  if (!parsed.ok) ctx.error([...at, "url"], MESSAGES.tangUrlUnparsable(url, parsed.reason));
  else if (parsed.url.scheme !== "http" && parsed.url.scheme !== "https") ctx.error([...at, "url"], MESSAGES.tangUrlScheme(parsed.url.scheme));
  if (isBlank(t.thumbprint)) ctx.error([...at, "thumbprint"], MESSAGES.tangThumbprintRequired());
  if (!isBlank(t.advertisement)) {
    try {
      JSON.parse(t.advertisement!);
    } catch {
      ctx.error([...at, "advertisement"], MESSAGES.tangAdvertisementInvalid());
    }
  }
}
