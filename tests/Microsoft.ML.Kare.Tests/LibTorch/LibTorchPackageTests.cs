using System;
using System.Runtime.InteropServices;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.LibTorch;

/// <summary>
/// Which libtorch package each platform needs, and the message Fit fails with when TorchSharp cannot load its native
/// library there (CI runs on Linux only, so every platform's message is checked here from its inputs).
/// </summary>
[TestClass]
public sealed class LibTorchPackageTests
{
    /// <summary>What TorchSharp 0.107.0 throws on first use when libtorch is missing (its message, shortened).</summary>
    private static Exception TorchSharpFailure(string package) => new TypeInitializationException("TorchSharp.torch",
        new NotSupportedException($"This application or script uses TorchSharp but doesn't contain a reference to {package}, Version=2.10.0.0.\n\nConsider referencing one of the combination packages…\n\nTrace from LoadNativeBackend:\n…"));

    [TestMethod]
    [DataRow("LINUX", Architecture.X64, "libtorch-cpu-linux-x64")]
    [DataRow("WINDOWS", Architecture.X64, "libtorch-cpu-win-x64")]
    [DataRow("WINDOWS", Architecture.Arm64, "libtorch-cpu-win-arm64")]
    [DataRow("OSX", Architecture.Arm64, "libtorch-cpu-osx-arm64")]
    public void EachSupportedPlatformHasItsPackage(string os, Architecture architecture, string package)
        => Assert.AreEqual(package, LibTorchPackage.IdFor(OSPlatform.Create(os), architecture));

    [TestMethod]
    [DataRow("LINUX", Architecture.Arm64)]
    [DataRow("OSX", Architecture.X64)]
    [DataRow("WINDOWS", Architecture.X86)]
    [DataRow("FREEBSD", Architecture.X64)]
    public void PlatformsWithoutLibtorchHaveNoPackage(string os, Architecture architecture)
        => Assert.IsNull(LibTorchPackage.IdFor(OSPlatform.Create(os), architecture));

    [TestMethod]
    [DataRow("WINDOWS", Architecture.X64, "libtorch-cpu-win-x64", "win-x64")]
    [DataRow("WINDOWS", Architecture.Arm64, "libtorch-cpu-win-arm64", "win-arm64")]
    [DataRow("OSX", Architecture.Arm64, "libtorch-cpu-osx-arm64", "osx-arm64")]
    public void MessageOnWindowsAndMacOSNamesThePackageToAdd(string os, Architecture architecture, string package, string platform)
    {
        string message = LibTorchPackage.LoadFailureMessage(OSPlatform.Create(os), architecture, TorchSharpFailure(package));

        StringAssert.Contains(message, $"on {platform} ");
        StringAssert.Contains(message, $"Add the package {package}, version 2.10.0, to the application");
        StringAssert.Contains(message, $"dotnet add package {package} --version 2.10.0");
        StringAssert.Contains(message, "NotSupportedException: This application or script uses TorchSharp but doesn't contain a reference to");
        StringAssert.Contains(message, "an application that only scores can reference Microsoft.ML.Kare alone");
        Assert.DoesNotContain("Trace from LoadNativeBackend", message, "Only the first line of TorchSharp's message belongs in it.");
    }

    [TestMethod]
    public void MessageOnLinuxSaysThePackageComesWithTheTrainersAndWhatTheFallbackFound()
    {
        const string note = "the run-time fallback is off (KARE_LIBTORCHSHARP_FALLBACK)";
        string message = LibTorchPackage.LoadFailureMessage(OSPlatform.Linux, Architecture.X64, TorchSharpFailure("libtorch-cpu-linux-x64"), note);

        StringAssert.Contains(message, "on linux-x64 ");
        StringAssert.Contains(message, "libtorch comes with Microsoft.ML.Kare.Trainers as the package libtorch-cpu-linux-x64, version 2.10.0");
        StringAssert.Contains(message, "runtimes/linux-x64/native");
        StringAssert.Contains(message, "libLibTorchSharp.so: " + note);
        Assert.DoesNotContain("Add the package", message);
    }

    [TestMethod]
    [DataRow("LINUX", Architecture.Arm64, "linux-arm64")]
    [DataRow("OSX", Architecture.X64, "osx-x64")]
    public void MessageWhereTorchSharpHasNoLibtorchSaysWhereTrainingRuns(string os, Architecture architecture, string platform)
    {
        string message = LibTorchPackage.LoadFailureMessage(OSPlatform.Create(os), architecture, new DllNotFoundException("Unable to load shared library 'LibTorchSharp'"));

        StringAssert.Contains(message, $"TorchSharp 0.107.0 has no libtorch for {platform}");
        StringAssert.Contains(message, "training runs on Linux x64, Windows x64 or arm64, and macOS arm64");
        StringAssert.Contains(message, "DllNotFoundException: Unable to load shared library 'LibTorchSharp'");
        Assert.DoesNotContain("libtorch-cpu-", message);
    }

    [TestMethod]
    public void TheCurrentPlatformIsRecognised()
    {
        string rid = LibTorchPackage.RuntimeIdentifier(LibTorchPackage.CurrentOS(), RuntimeInformation.ProcessArchitecture);
        Assert.AreEqual(RuntimeInformation.RuntimeIdentifier, rid);
    }
}
