// postject ships no types: the one function scripts/build-sea.ts calls.
declare module 'postject' {
  const postject: {
    inject(
      file: string,
      resource: string,
      data: Buffer,
      options?: { sentinelFuse?: string; machoSegmentName?: string; overwrite?: boolean },
    ): Promise<void>;
  };
  export default postject;
}
