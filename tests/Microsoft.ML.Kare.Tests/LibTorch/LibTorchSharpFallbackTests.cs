using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.ML.Kare.Build;
using Microsoft.ML.Kare.LibTorch;
using Microsoft.ML.Kare.Tests.Build;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.LibTorch;

/// <summary>
/// The run-time fallback for libLibTorchSharp.so (<see cref="LibTorchSharpFallback"/>): the patched copy in the
/// per-user cache, and, in a fresh process, an application whose output copy the build did not patch
/// (tests/Microsoft.ML.Kare.TrainingHost: the trainers by ProjectReference, KarePatchLibTorchSharp=false).
/// </summary>
[TestClass]
public sealed class LibTorchSharpFallbackTests
{
    private const string Version = KareElfVersionPatch.DefaultVersionName;

    private string tempDirectory = "";

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateTempDirectory() => tempDirectory = Directory.CreateTempSubdirectory("kare-fallback-").FullName;

    [TestCleanup]
    public void DeleteTempDirectory()
    {
        if (Directory.Exists(tempDirectory)) Directory.Delete(tempDirectory, recursive: true);
    }

    [TestMethod]
    public void PatchedCopyGoesToTheCacheKeyedByTheOriginalsHashAndIsReused()
    {
        string original = Path.Combine(tempDirectory, "app", LibTorchSharpFallback.LibraryFileName);
        Directory.CreateDirectory(Path.GetDirectoryName(original)!);
        File.WriteAllBytes(original, UnpatchedImage());
        string originalHash = BuildTestSupport.Sha256(original);
        string cache = Path.Combine(tempDirectory, "cache");

        string? copy = LibTorchSharpFallback.MakePatchedCopy(original, cache);

        Assert.IsNotNull(copy);
        Assert.AreEqual(Path.Combine(cache, originalHash.ToLowerInvariant(), LibTorchSharpFallback.LibraryFileName), copy);
        Assert.AreEqual(originalHash, BuildTestSupport.Sha256(original), "The original was modified.");
        AssertRequirementWeak(copy, weak: true);
        byte[] patched = File.ReadAllBytes(copy);
        byte[] unpatched = File.ReadAllBytes(original);
        Assert.AreEqual(1, patched.Zip(unpatched).Count(pair => pair.First != pair.Second), "Only the requirement's flag should differ.");
        Assert.HasCount(1, Directory.GetFiles(Path.GetDirectoryName(copy)!), "A temporary file was left behind.");

        // Reused as it is: not written again.
        var earlier = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(copy, earlier);
        Assert.AreEqual(copy, LibTorchSharpFallback.MakePatchedCopy(original, cache));
        Assert.AreEqual(earlier, File.GetLastWriteTimeUtc(copy));

        // A damaged copy (here: truncated) is replaced.
        File.WriteAllBytes(copy, patched[..1000]);
        Assert.AreEqual(copy, LibTorchSharpFallback.MakePatchedCopy(original, cache));
        CollectionAssert.AreEqual(patched, File.ReadAllBytes(copy));
    }

    [TestMethod]
    public void NoCopyForALibraryThatIsAlreadyLoadable()
    {
        string patched = Path.Combine(tempDirectory, LibTorchSharpFallback.LibraryFileName);
        byte[] image = UnpatchedImage();
        Assert.AreEqual(1, KareElfVersionPatch.MarkVersionNeedWeak(image, Version));
        File.WriteAllBytes(patched, image);
        string cache = Path.Combine(tempDirectory, "cache");
        Assert.IsNull(LibTorchSharpFallback.MakePatchedCopy(patched, cache));
        Assert.IsFalse(Directory.Exists(cache), "Nothing should be written for a loadable library.");

        string text = Path.Combine(tempDirectory, "not-elf.so");
        File.WriteAllText(text, "not an ELF file, but long enough to look at its header and beyond it...........");
        Assert.ThrowsExactly<InvalidOperationException>(() => LibTorchSharpFallback.MakePatchedCopy(text, cache));
    }

    [TestMethod]
    public void CacheRootIsTheConfiguredFolderElseTheXdgCacheElseHomeCache()
    {
        string? configured = Environment.GetEnvironmentVariable(LibTorchSharpFallback.CacheVariable);
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable(LibTorchSharpFallback.CacheVariable, tempDirectory);
            Assert.AreEqual(tempDirectory, LibTorchSharpFallback.CacheRoot());
            Environment.SetEnvironmentVariable(LibTorchSharpFallback.CacheVariable, null);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/xdg/cache");
            Assert.AreEqual(Path.Combine("/xdg/cache", "Microsoft.ML.Kare", "libLibTorchSharp"), LibTorchSharpFallback.CacheRoot());
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "relative/ignored");
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            Assert.AreEqual(Path.Combine(home, ".cache", "Microsoft.ML.Kare", "libLibTorchSharp"), LibTorchSharpFallback.CacheRoot());
        }
        finally
        {
            Environment.SetEnvironmentVariable(LibTorchSharpFallback.CacheVariable, configured);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", xdg);
        }
    }

    [TestMethod]
    public void CandidatesFollowTheRuntimesOrder()
    {
        CollectionAssert.AreEqual(new[]
        {
            Path.Combine("/app/runtimes/linux-x64/native", "libLibTorchSharp.so"),
            Path.Combine("/dotnet/shared", "libLibTorchSharp.so"),
            Path.Combine("/app", "libLibTorchSharp.so"),
            Path.Combine("/app", "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
        }, LibTorchSharpFallback.CandidatePaths(new[] { "/app/runtimes/linux-x64/native", "/dotnet/shared" }, "/app").ToArray());
    }

    [TestMethod]
    public void ReadsTheLibrariesLibTorchSharpNeeds()
    {
        string library = RequireOutputLibrary();
        List<string>? needed = KareElfVersionPatch.ReadNeededLibraries(File.ReadAllBytes(library));
        Assert.IsNotNull(needed);
        CollectionAssert.IsSubsetOf(new[] { "libtorch.so", "libc10.so", "libtorch_cpu.so", "libstdc++.so.6" }, needed);
        Assert.IsNull(KareElfVersionPatch.ReadNeededLibraries(new byte[100]));
    }

    [TestMethod]
    public void TheTestProcessNeedsNoFallback()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only.");
        TorchRuntime.Initialize();
        LibTorchSharpFallbackResult? fallback = TorchRuntime.Fallback;
        Assert.IsNotNull(fallback);
        // This project's output copy is patched at build time (where needed), so TorchSharp loads it as it is.
        CollectionAssert.Contains(new[] { LibTorchSharpFallbackOutcome.SystemProvidesVersion, LibTorchSharpFallbackOutcome.CopyAlreadyLoadable }, fallback.Outcome, fallback.Describe());
    }

    /// <summary>
    /// An application whose output keeps the unpatched libLibTorchSharp.so trains: where the system libstdc++ lacks
    /// GLIBCXX_3.4.32, through a patched copy in the cache (made once, then reused; the output copy untouched), and
    /// fails without the fallback; elsewhere with its own copy and no cache.
    /// </summary>
    [TestMethod]
    [TestCategory("Integration")]
    [Timeout(300_000, CooperativeCancellation = true)]
    public void AnApplicationWithoutTheBuildStepTrainsInAFreshProcess()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("libLibTorchSharp.so is patched on Linux only.");
        string host = typeof(LibTorchSharpFallbackTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "KareTrainingHostPath").Value!;
        Assert.IsTrue(File.Exists(host), $"The training host was not built: {host}");
        string output = Path.Combine(Path.GetDirectoryName(host)!, "runtimes", "linux-x64", "native", LibTorchSharpFallback.LibraryFileName);
        Assert.IsTrue(File.Exists(output), $"{output} is missing.");
        string outputHash = BuildTestSupport.Sha256(output);
        string cache = Path.Combine(tempDirectory, "cache");
        var environment = new Dictionary<string, string> { [LibTorchSharpFallback.CacheVariable] = cache };

        string? system = KareElfVersionPatch.FindSystemLibrary(KareElfVersionPatch.DefaultProviderSoname);
        bool systemProvides = system != null && KareElfVersionPatch.DefinesVersion(system, Version);
        TestContext.WriteLine($"system libstdc++: {system ?? "none found"}, provides {Version}: {systemProvides}");
        AssertRequirementWeak(output, weak: false); // the build step did not run for this application

        BuildTestSupport.ProcessResult first = RunHost(host, environment);
        string loaded = LoadedLibrary(first);
        if (systemProvides)
        {
            Assert.AreEqual(output, loaded, "With a libstdc++ that provides the version, TorchSharp's own copy loads.");
            Assert.IsFalse(Directory.Exists(cache), "No patched copy is needed.");
            return;
        }

        string expected = Path.Combine(cache, outputHash.ToLowerInvariant(), LibTorchSharpFallback.LibraryFileName);
        Assert.AreEqual(expected, loaded, first.ToString());
        AssertRequirementWeak(expected, weak: true);
        DateTime made = File.GetLastWriteTimeUtc(expected);

        BuildTestSupport.ProcessResult second = RunHost(host, environment);
        Assert.AreEqual(expected, LoadedLibrary(second), second.ToString());
        Assert.AreEqual(made, File.GetLastWriteTimeUtc(expected), "The cached copy should be reused, not written again.");
        Assert.AreEqual(outputHash, BuildTestSupport.Sha256(output), "The application's own copy was modified.");

        // Without the fallback the same application fails to load TorchSharp, and Fit says why. (An empty packages
        // folder keeps TorchSharp's own last resort, copying libtorch out of the NuGet cache into the output, from running.)
        environment[LibTorchSharpFallback.SwitchVariable] = "off";
        environment["NUGET_PACKAGES"] = Directory.CreateDirectory(Path.Combine(tempDirectory, "no-packages")).FullName;
        BuildTestSupport.ProcessResult without = BuildTestSupport.Run(BuildTestSupport.DotnetHost(), new[] { host }, tempDirectory, environment, TimeSpan.FromMinutes(2));
        TestContext.WriteLine(without.ToString());
        Assert.AreNotEqual(0, without.ExitCode, "The application trained without the fallback: the scenario does not reproduce.");
        Assert.Contains("failed: System.InvalidOperationException: Training with KARE needs libtorch, but TorchSharp could not load its native library on linux-x64", without.Output);
        Assert.Contains("libtorch-cpu-linux-x64, version 2.10.0", without.Output);
        Assert.Contains($"libLibTorchSharp.so: the run-time fallback is off ({LibTorchSharpFallback.SwitchVariable})", without.Output);
        Assert.Contains("---> System.TypeInitializationException", without.Output, "TorchSharp's error should be the inner exception.");
    }

    private BuildTestSupport.ProcessResult RunHost(string host, IReadOnlyDictionary<string, string> environment)
    {
        BuildTestSupport.ProcessResult result = BuildTestSupport.Run(BuildTestSupport.DotnetHost(), new[] { host }, tempDirectory, environment, TimeSpan.FromMinutes(2));
        TestContext.WriteLine(result.ToString());
        Assert.AreEqual(0, result.ExitCode, result.ToString());
        return result;
    }

    private static string LoadedLibrary(BuildTestSupport.ProcessResult result)
    {
        string line = result.Output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("libLibTorchSharp: ", StringComparison.Ordinal));
        return line["libLibTorchSharp: ".Length..];
    }

    private static void AssertRequirementWeak(string path, bool weak)
    {
        byte[] image = File.ReadAllBytes(path);
        List<long>? offsets = KareElfVersionPatch.FindVersionNeedFlagOffsets(image, Version);
        Assert.IsNotNull(offsets);
        Assert.HasCount(1, offsets);
        Assert.AreEqual(weak, (KareElfVersionPatch.ReadFlags(image, offsets)[0] & KareElfVersionPatch.VerFlagWeak) != 0, path);
    }

    private static string RequireOutputLibrary()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("libLibTorchSharp.so is patched on Linux only.");
        string? library = BuildTestSupport.OutputLibTorchSharp();
        Assert.IsNotNull(library, "libLibTorchSharp.so is not in the test output.");
        return library;
    }

    /// <summary>This test project's libLibTorchSharp.so with the requirement's weak flag cleared (as TorchSharp ships it).</summary>
    private static byte[] UnpatchedImage()
    {
        byte[] image = File.ReadAllBytes(RequireOutputLibrary());
        List<long>? offsets = KareElfVersionPatch.FindVersionNeedFlagOffsets(image, Version);
        Assert.IsNotNull(offsets);
        Assert.HasCount(1, offsets);
        foreach (long offset in offsets) image[offset] &= unchecked((byte)~KareElfVersionPatch.VerFlagWeak);
        return image;
    }
}
