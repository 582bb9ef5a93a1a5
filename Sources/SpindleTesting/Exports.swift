// Tests that start a server also want the sample traces.
@_exported import SpindleSamples
