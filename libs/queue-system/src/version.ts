/** This library's version, as its package.json states it; a test holds the two together. */
export const LIBRARY_VERSION = '0.1.0';
