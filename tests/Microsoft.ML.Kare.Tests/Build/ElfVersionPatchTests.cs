using System.Collections.Generic;
using System.IO;
using System;
using Microsoft.ML.Kare.Build;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>
/// The ELF logic of the build step that marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak
/// (src/Microsoft.ML.Kare.Trainers/buildTransitive/KareElfVersionPatch.cs), run on real copies of the library.
/// </summary>
[TestClass]
public sealed class ElfVersionPatchTests
{
    private const string Version = KareElfVersionPatch.DefaultVersionName;

    private string tempDirectory = "";

    [TestInitialize]
    public void CreateTempDirectory() => tempDirectory = Directory.CreateTempSubdirectory("kare-elf-").FullName;

    [TestCleanup]
    public void DeleteTempDirectory()
    {
        if (Directory.Exists(tempDirectory)) Directory.Delete(tempDirectory, recursive: true);
    }

    [TestMethod]
    public void PatchMarksOnlyTheRequirementWeakAndIsIdempotent()
    {
        string source = RequireOutputLibrary();
        string sourceHash = BuildTestSupport.Sha256(source);
        byte[] unpatched = UnpatchedImage(source, out List<long> offsets);
        string copy = Path.Combine(tempDirectory, "libLibTorchSharp.so");
        File.WriteAllBytes(copy, unpatched);

        Assert.AreEqual(KareElfPatchOutcome.Patched, KareElfVersionPatch.PatchFile(copy, Version));
        byte[] patched = File.ReadAllBytes(copy);
        Assert.HasCount(unpatched.Length, patched);
        foreach (ushort flags in KareElfVersionPatch.ReadFlags(patched, offsets))
            Assert.AreEqual(KareElfVersionPatch.VerFlagWeak, (ushort)(flags & KareElfVersionPatch.VerFlagWeak));
        int differing = 0;
        for (int i = 0; i < patched.Length; i++) differing += patched[i] != unpatched[i] ? 1 : 0;
        Assert.AreEqual(offsets.Count, differing, "Only the low byte of each vna_flags should change.");

        DateTime lastWrite = File.GetLastWriteTimeUtc(copy);
        Assert.AreEqual(KareElfPatchOutcome.AlreadyWeak, KareElfVersionPatch.PatchFile(copy, Version));
        CollectionAssert.AreEqual(patched, File.ReadAllBytes(copy));
        Assert.AreEqual(lastWrite, File.GetLastWriteTimeUtc(copy));

        Assert.AreEqual(sourceHash, BuildTestSupport.Sha256(source), "The test output's library was modified.");
        Assert.HasCount(1, Directory.GetFiles(tempDirectory), "A temporary file was left behind.");
    }

    [TestMethod]
    public void PatchReplacesAHardLinkInsteadOfWritingThroughIt()
    {
        string source = RequireOutputLibrary();
        (string cached, string cachedHash, DateTime cachedTime) = MakeCacheLikeOriginal(source);
        string output = Path.Combine(Directory.CreateDirectory(Path.Combine(tempDirectory, "out")).FullName, "libLibTorchSharp.so");
        BuildTestSupport.ProcessResult ln = BuildTestSupport.Run("ln", new[] { cached, output }, tempDirectory, null, TimeSpan.FromSeconds(30));
        Assert.AreEqual(0, ln.ExitCode, ln.ToString());

        Assert.AreEqual(KareElfPatchOutcome.Patched, KareElfVersionPatch.PatchFile(output, Version));

        Assert.AreEqual(cachedHash, BuildTestSupport.Sha256(cached), "The patch wrote through the hard link.");
        Assert.AreNotEqual(cachedHash, BuildTestSupport.Sha256(output));
        AssertAllWeak(output);
        Assert.AreEqual(cachedTime, File.GetLastWriteTimeUtc(output), "The output should keep the original's last-write time.");
    }

    [TestMethod]
    public void PatchReplacesASymbolicLinkInsteadOfWritingThroughIt()
    {
        string source = RequireOutputLibrary();
        (string cached, string cachedHash, DateTime cachedTime) = MakeCacheLikeOriginal(source);
        string output = Path.Combine(Directory.CreateDirectory(Path.Combine(tempDirectory, "out")).FullName, "libLibTorchSharp.so");
        File.CreateSymbolicLink(output, cached);

        Assert.AreEqual(KareElfPatchOutcome.Patched, KareElfVersionPatch.PatchFile(output, Version));

        Assert.AreEqual(cachedHash, BuildTestSupport.Sha256(cached), "The patch wrote through the symbolic link.");
        Assert.IsNull(new FileInfo(output).LinkTarget, "The output should now be a file of its own.");
        AssertAllWeak(output);
        Assert.AreEqual(cachedTime, File.GetLastWriteTimeUtc(output), "The output should keep the target's last-write time.");
        Assert.AreEqual(KareElfPatchOutcome.AlreadyWeak, KareElfVersionPatch.PatchFile(output, Version));
    }

    [TestMethod]
    public void OutputCopyIsPatchedExactlyWhenTheSystemLibstdcxxLacksTheVersion()
    {
        string output = RequireOutputLibrary();
        string? system = KareElfVersionPatch.FindSystemLibrary(KareElfVersionPatch.DefaultProviderSoname);
        bool systemProvides = system != null && KareElfVersionPatch.DefinesVersion(system, Version);
        byte[] image = File.ReadAllBytes(output);
        List<long>? offsets = KareElfVersionPatch.FindVersionNeedFlagOffsets(image, Version);
        Assert.IsNotNull(offsets);
        Assert.HasCount(1, offsets);
        bool weak = (KareElfVersionPatch.ReadFlags(image, offsets)[0] & KareElfVersionPatch.VerFlagWeak) != 0;
        Assert.AreEqual(!systemProvides, weak, $"system libstdc++: {system ?? "none found"}, provides {Version}: {systemProvides}");

        // The package cache's original is never patched.
        string? cached = BuildTestSupport.PackageCacheLibTorchSharp(BuildTestSupport.DefaultGlobalPackagesFolder());
        if (cached != null)
        {
            byte[] original = File.ReadAllBytes(cached);
            List<long>? cachedOffsets = KareElfVersionPatch.FindVersionNeedFlagOffsets(original, Version);
            Assert.IsNotNull(cachedOffsets);
            Assert.HasCount(1, cachedOffsets);
            Assert.AreEqual(0, KareElfVersionPatch.ReadFlags(original, cachedOffsets)[0] & KareElfVersionPatch.VerFlagWeak,
                $"The package cache's {cached} has been modified.");
        }
    }

    [TestMethod]
    public void ReadsTheVersionDefinitionsOfTheSystemLibstdcxx()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only.");
        string? system = KareElfVersionPatch.FindSystemLibrary(KareElfVersionPatch.DefaultProviderSoname);
        if (system == null) Assert.Inconclusive("No libstdc++.so.6 on this system.");
        List<string>? definitions = KareElfVersionPatch.ReadVersionDefinitions(File.ReadAllBytes(system));
        Assert.IsNotNull(definitions);
        CollectionAssert.Contains(definitions, "GLIBCXX_3.4");
        CollectionAssert.Contains(definitions, "CXXABI_1.3");
        Assert.IsTrue(KareElfVersionPatch.DefinesVersion(system, "GLIBCXX_3.4"));
        Assert.IsFalse(KareElfVersionPatch.DefinesVersion(system, "GLIBCXX_99.0"));
    }

    [TestMethod]
    public void NonElfAndMissingFilesAreLeftAlone()
    {
        string text = Path.Combine(tempDirectory, "not-elf.so");
        File.WriteAllText(text, "not an ELF file, but long enough to look at its header and beyond it...........");
        byte[] before = File.ReadAllBytes(text);
        Assert.IsNull(KareElfVersionPatch.FindVersionNeedFlagOffsets(before, Version));
        Assert.AreEqual(KareElfPatchOutcome.NotApplicable, KareElfVersionPatch.PatchFile(text, Version));
        CollectionAssert.AreEqual(before, File.ReadAllBytes(text));
        Assert.AreEqual(KareElfPatchOutcome.Missing, KareElfVersionPatch.PatchFile(Path.Combine(tempDirectory, "absent.so"), Version));

        string source = RequireOutputLibrary();
        string copy = Path.Combine(tempDirectory, "libLibTorchSharp.so");
        File.Copy(source, copy);
        Assert.AreEqual(KareElfPatchOutcome.NotRequired, KareElfVersionPatch.PatchFile(copy, "GLIBCXX_99.0"));
    }

    private static string RequireOutputLibrary()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("libLibTorchSharp.so is patched on Linux only.");
        string? library = BuildTestSupport.OutputLibTorchSharp();
        Assert.IsNotNull(library, "libLibTorchSharp.so is not in the test output.");
        return library;
    }

    /// <summary>The image of <paramref name="path"/> with the requirement's weak flag cleared (as TorchSharp ships it).</summary>
    private static byte[] UnpatchedImage(string path, out List<long> offsets)
    {
        byte[] image = File.ReadAllBytes(path);
        List<long>? found = KareElfVersionPatch.FindVersionNeedFlagOffsets(image, Version);
        Assert.IsNotNull(found);
        Assert.HasCount(1, found);
        foreach (long offset in found) image[offset] &= unchecked((byte)~KareElfVersionPatch.VerFlagWeak);
        offsets = found;
        return image;
    }

    private (string Path, string Hash, DateTime LastWrite) MakeCacheLikeOriginal(string source)
    {
        string directory = Directory.CreateDirectory(Path.Combine(tempDirectory, "cache")).FullName;
        string cached = Path.Combine(directory, "libLibTorchSharp.so");
        File.WriteAllBytes(cached, UnpatchedImage(source, out _));
        var lastWrite = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(cached, lastWrite);
        return (cached, BuildTestSupport.Sha256(cached), lastWrite);
    }

    private static void AssertAllWeak(string path)
    {
        byte[] image = File.ReadAllBytes(path);
        List<long>? offsets = KareElfVersionPatch.FindVersionNeedFlagOffsets(image, Version);
        Assert.IsNotNull(offsets);
        Assert.HasCount(1, offsets);
        foreach (ushort flags in KareElfVersionPatch.ReadFlags(image, offsets))
            Assert.AreEqual(KareElfVersionPatch.VerFlagWeak, (ushort)(flags & KareElfVersionPatch.VerFlagWeak));
    }
}
