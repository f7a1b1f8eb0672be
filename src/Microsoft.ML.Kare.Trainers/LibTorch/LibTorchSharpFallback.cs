using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System;
using Microsoft.ML.Kare.Build;

namespace Microsoft.ML.Kare.LibTorch;

/// <summary>What <see cref="LibTorchSharpFallback.Apply"/> found and did.</summary>
internal enum LibTorchSharpFallbackOutcome
{
    /// <summary>Not Linux x64: TorchSharp's native library there does not have the problem.</summary>
    NotApplicable,
    /// <summary>Turned off with <see cref="LibTorchSharpFallback.SwitchVariable"/>.</summary>
    Disabled,
    /// <summary>No libLibTorchSharp.so where TorchSharp looks for it; TorchSharp reports that itself.</summary>
    NotFound,
    /// <summary>A libLibTorchSharp.so is already loaded in the process.</summary>
    AlreadyLoaded,
    /// <summary>The system libstdc++ provides the version, so TorchSharp's own copy loads.</summary>
    SystemProvidesVersion,
    /// <summary>The copy TorchSharp loads does not require the version, or requires it weakly (the build step patched it).</summary>
    CopyAlreadyLoadable,
    /// <summary>A patched copy from the per-user cache was loaded, so TorchSharp's own load finds it.</summary>
    LoadedPatchedCopy,
    /// <summary>A patched copy was needed but could not be made or loaded (see the reason).</summary>
    Failed,
}

/// <summary>The result of <see cref="LibTorchSharpFallback.Apply"/>.</summary>
/// <param name="Outcome">What was found and done.</param>
/// <param name="Original">The libLibTorchSharp.so TorchSharp would load, when one was found.</param>
/// <param name="PatchedCopy">The patched copy that was loaded (or should have been), when one was needed.</param>
/// <param name="Reason">Why it failed, for <see cref="LibTorchSharpFallbackOutcome.Failed"/>.</param>
internal sealed record LibTorchSharpFallbackResult(LibTorchSharpFallbackOutcome Outcome, string? Original = null,
    string? PatchedCopy = null, string? Reason = null)
{
    /// <summary>One sentence for logs and error messages.</summary>
    public string Describe() => Outcome switch
    {
        LibTorchSharpFallbackOutcome.LoadedPatchedCopy => $"{Original} requires {KareElfVersionPatch.DefaultVersionName}, which the system libstdc++ lacks; loaded a copy with that requirement marked weak, {PatchedCopy}",
        LibTorchSharpFallbackOutcome.Failed => $"{Original} requires {KareElfVersionPatch.DefaultVersionName}, which the system libstdc++ lacks, and no patched copy could be loaded{(PatchedCopy is null ? "" : $" from {PatchedCopy}")}: {Reason}",
        LibTorchSharpFallbackOutcome.CopyAlreadyLoadable => $"{Original} loads as it is",
        LibTorchSharpFallbackOutcome.SystemProvidesVersion => $"the system libstdc++ provides {KareElfVersionPatch.DefaultVersionName}",
        LibTorchSharpFallbackOutcome.NotFound => "no libLibTorchSharp.so found where TorchSharp looks for it",
        LibTorchSharpFallbackOutcome.AlreadyLoaded => "libLibTorchSharp.so was already loaded",
        LibTorchSharpFallbackOutcome.Disabled => $"the run-time fallback is off ({LibTorchSharpFallback.SwitchVariable})",
        _ => "not needed on this platform",
    };
}

/// <summary>
/// The run-time half of the libLibTorchSharp.so fix, for applications whose output copy was not patched at build time
/// (the trainers used by ProjectReference, a host that runs no NuGet build logic, KarePatchLibTorchSharp=false).
/// </summary>
/// <remarks>
/// TorchSharp 0.107.0 loads its native library by name: its static constructor calls
/// NativeLibrary.TryLoad("LibTorchSharp", TorchSharp's assembly, null), and every P/Invoke is
/// [DllImport("LibTorchSharp")]. For each name variation the runtime first tries the full paths in the application's
/// native search directories (deps.json) and next to the assembly, then dlopen of the bare file name. A full-path
/// dlopen of the unpatched copy fails (GLIBCXX_3.4.32 not found), but glibc answers a dlopen by bare name with an
/// object already loaded under that soname (libLibTorchSharp.so), whatever its path. So loading a patched copy by its
/// full path before TorchSharp's static constructor runs is enough: no DllImportResolver on TorchSharp's assembly
/// (which belongs to TorchSharp to set) is needed. The patched copy lives in a per-user cache folder keyed by the
/// SHA-256 of the original; the original (in the application's output or the package cache) is never written to. Its
/// dependencies (libtorch.so, libc10.so, libtorch_cpu.so) are loaded first from the original's folder, because the
/// copy's $ORIGIN run path points at the cache folder.
/// </remarks>
internal static class LibTorchSharpFallback
{
    /// <summary>The native library's file name on Linux.</summary>
    public const string LibraryFileName = "libLibTorchSharp.so";

    /// <summary>Environment variable naming the folder for patched copies (default: $XDG_CACHE_HOME or ~/.cache, then Microsoft.ML.Kare/libLibTorchSharp).</summary>
    public const string CacheVariable = "KARE_LIBTORCHSHARP_CACHE";

    /// <summary>Environment variable that turns the fallback off when set to 0, false or off.</summary>
    public const string SwitchVariable = "KARE_LIBTORCHSHARP_FALLBACK";

    /// <summary>Handles of the libraries this class loaded; kept so that they are never unloaded.</summary>
    private static readonly List<IntPtr> Loaded = new();

    /// <summary>
    /// On Linux x64, when the system libstdc++ lacks GLIBCXX_3.4.32 and the libLibTorchSharp.so TorchSharp would load
    /// requires it, loads a patched copy from the per-user cache (making it first if needed). Call before TorchSharp's
    /// first use; never throws for a copy that cannot be made (the result says why).
    /// </summary>
    public static LibTorchSharpFallbackResult Apply()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return new(LibTorchSharpFallbackOutcome.NotApplicable);
        if (Environment.GetEnvironmentVariable(SwitchVariable) is string setting
            && (setting == "0" || setting.Equals("false", StringComparison.OrdinalIgnoreCase) || setting.Equals("off", StringComparison.OrdinalIgnoreCase)))
            return new(LibTorchSharpFallbackOutcome.Disabled);
        if (MappedLibraries().Any(path => Path.GetFileName(path) == LibraryFileName))
            return new(LibTorchSharpFallbackOutcome.AlreadyLoaded);
        string? original = CandidatePaths(NativeSearchDirectories(), TorchSharpDirectory()).FirstOrDefault(File.Exists);
        if (original is null)
            return new(LibTorchSharpFallbackOutcome.NotFound);
        string? system = KareElfVersionPatch.FindSystemLibrary(KareElfVersionPatch.DefaultProviderSoname);
        if (system is not null && KareElfVersionPatch.DefinesVersion(system, KareElfVersionPatch.DefaultVersionName))
            return new(LibTorchSharpFallbackOutcome.SystemProvidesVersion, original);

        string? patched = null;
        try
        {
            patched = MakePatchedCopy(original, CacheRoot());
            if (patched is null)
                return new(LibTorchSharpFallbackOutcome.CopyAlreadyLoadable, original);
            LoadWithDependencies(patched, original);
            return new(LibTorchSharpFallbackOutcome.LoadedPatchedCopy, original, patched);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or BadImageFormatException or InvalidOperationException)
        {
            return new(LibTorchSharpFallbackOutcome.Failed, original, patched, e.Message);
        }
    }

    /// <summary>
    /// Where a patched copy of <paramref name="original"/> belongs in <paramref name="cacheRoot"/>, made (atomically) if
    /// it is not there with the expected content; null when the original needs no patch (no requirement of
    /// GLIBCXX_3.4.32, or only weak ones). The original is only read.
    /// </summary>
    /// <exception cref="InvalidOperationException">The original is not a readable ELF64 file.</exception>
    public static string? MakePatchedCopy(string original, string cacheRoot)
    {
        byte[] image = File.ReadAllBytes(original);
        List<long>? offsets = KareElfVersionPatch.FindVersionNeedFlagOffsets(image, KareElfVersionPatch.DefaultVersionName);
        if (offsets is null)
            throw new InvalidOperationException($"{original} is not a readable ELF64 library.");
        string originalHash = Convert.ToHexStringLower(SHA256.HashData(image));
        if (KareElfVersionPatch.MarkVersionNeedWeak(image, KareElfVersionPatch.DefaultVersionName) <= 0)
            return null;
        byte[] patchedHash = SHA256.HashData(image);

        string folder = Directory.CreateDirectory(Path.Combine(cacheRoot, originalHash)).FullName;
        string path = Path.Combine(folder, LibraryFileName);
        if (File.Exists(path) && HashOf(path).AsSpan().SequenceEqual(patchedHash))
            return path;
        string temporary = Path.Combine(folder, $".{LibraryFileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(image);
                stream.Flush(flushToDisk: true);
            }
            // rename(2): another process sees either no file or a whole one.
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
        return path;
    }

    /// <summary>The per-user folder of patched copies: <see cref="CacheVariable"/>, else $XDG_CACHE_HOME or ~/.cache.</summary>
    public static string CacheRoot()
    {
        if (Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } configured)
            return Path.GetFullPath(configured);
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "Microsoft.ML.Kare", "libLibTorchSharp");
    }

    /// <summary>
    /// The paths where the runtime looks for TorchSharp's "LibTorchSharp", in its order: the application's native
    /// search directories, then TorchSharp's assembly folder and its runtimes/linux-x64/native subfolder.
    /// </summary>
    public static IEnumerable<string> CandidatePaths(IEnumerable<string> nativeSearchDirectories, string? torchSharpDirectory)
    {
        foreach (string directory in nativeSearchDirectories)
            yield return Path.Combine(directory, LibraryFileName);
        if (torchSharpDirectory is not null)
        {
            yield return Path.Combine(torchSharpDirectory, LibraryFileName);
            yield return Path.Combine(torchSharpDirectory, "runtimes", "linux-x64", "native", LibraryFileName);
        }
    }

    private static IEnumerable<string> NativeSearchDirectories()
        => (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? TorchSharpDirectory()
    {
        string location = typeof(TorchSharp.torch).Assembly.Location;
        return location.Length == 0 ? null : Path.GetDirectoryName(location);
    }

    /// <summary>
    /// Loads the libraries <paramref name="patched"/> needs that sit next to <paramref name="original"/> (libtorch and
    /// its parts: the copy's own $ORIGIN is the cache folder), then the patched copy itself.
    /// </summary>
    private static void LoadWithDependencies(string patched, string original)
    {
        string directory = Path.GetDirectoryName(original)!;
        List<string> needed = KareElfVersionPatch.ReadNeededLibraries(File.ReadAllBytes(patched))
            ?? throw new InvalidOperationException($"{patched} is not a readable ELF64 library.");
        lock (Loaded)
        {
            foreach (string name in needed)
            {
                string dependency = Path.Combine(directory, name);
                if (File.Exists(dependency))
                    Loaded.Add(NativeLibrary.Load(dependency));
            }
            Loaded.Add(NativeLibrary.Load(patched));
        }
    }

    private static byte[] HashOf(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    /// <summary>The files mapped into this process (from /proc/self/maps).</summary>
    internal static IEnumerable<string> MappedLibraries()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
            return Array.Empty<string>();
        try
        {
            return File.ReadAllLines(maps)
                .Select(line => line.IndexOf('/') is int slash and >= 0 ? line[slash..].Trim() : "")
                .Where(path => path.Length > 0)
                .Distinct()
                .ToArray();
        }
        catch (IOException)
        {
            return Array.Empty<string>();
        }
    }
}
