import type { OptionSource } from './option-spec';

/**
 * What an error about an option adds so that the reader can fix it: where
 * else the option is set, or that the bad value came from the environment.
 * Never the value itself (it may be the API key).
 */
export function howToSet(option: string, env: string | undefined, source: OptionSource): string {
  if (env === undefined) return '';
  if (source === 'env') return ` The value was read from ${env}: correct or unset it.`;
  return ` Set it with the \`${option}\` option or ${env}.`;
}

/** "Did you mean `gatewayUrl`?" for a key that differs from a known one only in case. */
export function didYouMean(key: string, known: readonly string[]): string {
  const match = known.find((k) => k.toLowerCase() === key.toLowerCase());
  return match === undefined ? '' : ` Did you mean \`${match}\`?`;
}
