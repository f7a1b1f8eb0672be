using Microsoft.ML.Kare.LibTorch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

// Tests run one at a time: TorchSharp already uses both cores of the machines this runs on, and the
// package-consumer integration test runs dotnet builds of its own. (The one assembly-level MSTest setting of this
// project; MSTEST0001 asks for it explicitly.)
[assembly: DoNotParallelize]

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>Set-up of the whole test run.</summary>
[TestClass]
public static class TestAssemblySetup
{
    /// <summary>
    /// Sets libtorch's process environment (OMP_WAIT_POLICY, MKL_CBWR) before any test loads libtorch, as a fit does in
    /// an application. Otherwise the tests that use TorchSharp directly (solvers, kernels, networks) load it first when
    /// a filter runs them before any fit, and MKL then ignores the MKL_CBWR a later fit sets: the determinism tests, which
    /// expect bit identity once MKL_CBWR is set, failed after the KareStepEngine tests in one filtered run.
    /// </summary>
    [AssemblyInitialize]
    public static void InitializeTorchRuntime(TestContext context) => TorchRuntime.Initialize();
}
