using System;
using Microsoft.ML.Kare.Backend;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Backend;

[TestClass]
public sealed class TorchRuntimeTests
{
    [TestMethod]
    public void InitializeMakesOpenMpWaitPassivelyUnlessTheUserChose()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Inconclusive("The wait policy is set through glibc's setenv on Linux only.");
        string? chosen = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
        TorchRuntime.Initialize();
        TorchRuntime.Initialize();
        Assert.AreEqual(chosen ?? "PASSIVE", TorchRuntime.GetNativeEnvironmentVariable("OMP_WAIT_POLICY"));
    }
}
