using Microsoft.VisualStudio.TestTools.UnitTesting;

// Tests run one at a time: TorchSharp already uses both cores of the machines this runs on, and the
// package-consumer integration test runs dotnet builds of its own. (The one assembly-level MSTest setting of this
// project; MSTEST0001 asks for it explicitly.)
[assembly: DoNotParallelize]
