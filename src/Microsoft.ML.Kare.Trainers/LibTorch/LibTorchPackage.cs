using System.Linq;
using System.Runtime.InteropServices;
using System;

namespace Microsoft.ML.Kare.LibTorch;

/// <summary>
/// Which libtorch package an application needs on which platform, and the message <c>Fit</c> fails with when TorchSharp
/// cannot load its native library. NuGet has no per-platform dependencies, so Microsoft.ML.Kare.Trainers depends on the
/// linux-x64 package only; elsewhere the application adds its platform's package.
/// </summary>
internal static class LibTorchPackage
{
    /// <summary>The libtorch version TorchSharp 0.107.0 is built for.</summary>
    public const string Version = "2.10.0";

    /// <summary>
    /// The id of the libtorch CPU package for an operating system and process architecture, or null where TorchSharp
    /// 0.107.0 publishes none.
    /// </summary>
    public static string? IdFor(OSPlatform os, Architecture architecture)
    {
        if (os == OSPlatform.Linux && architecture == Architecture.X64)
            return "libtorch-cpu-linux-x64";
        if (os == OSPlatform.Windows && architecture == Architecture.X64)
            return "libtorch-cpu-win-x64";
        if (os == OSPlatform.Windows && architecture == Architecture.Arm64)
            return "libtorch-cpu-win-arm64";
        if (os == OSPlatform.OSX && architecture == Architecture.Arm64)
            return "libtorch-cpu-osx-arm64";
        return null;
    }

    /// <summary>The running process's operating system (Linux, Windows, macOS, else FreeBSD or unknown).</summary>
    public static OSPlatform CurrentOS()
        => OperatingSystem.IsLinux() ? OSPlatform.Linux
            : OperatingSystem.IsWindows() ? OSPlatform.Windows
            : OperatingSystem.IsMacOS() ? OSPlatform.OSX
            : OperatingSystem.IsFreeBSD() ? OSPlatform.FreeBSD
            : OSPlatform.Create("UNKNOWN");

    /// <summary>A runtime identifier for the platform: linux-x64, win-arm64, osx-arm64, ….</summary>
    public static string RuntimeIdentifier(OSPlatform os, Architecture architecture)
    {
        string name = os == OSPlatform.Windows ? "win"
            : os == OSPlatform.OSX ? "osx"
            : os.ToString().ToLowerInvariant();
        return $"{name}-{architecture.ToString().ToLowerInvariant()}";
    }

    /// <summary>
    /// Why training cannot start: TorchSharp failed to load its native library (<paramref name="error"/>) on the given
    /// platform; names the libtorch package to add, and on Linux x64 what the libLibTorchSharp.so fallback found.
    /// </summary>
    public static string LoadFailureMessage(OSPlatform os, Architecture architecture, Exception error, string? libTorchSharpNote = null)
    {
        string platform = RuntimeIdentifier(os, architecture);
        string? id = IdFor(os, architecture);
        string cause = $"{Innermost(error).GetType().Name}: {FirstLine(Innermost(error).Message)}";
        string start = $"Training with KARE needs libtorch, but TorchSharp could not load its native library on {platform} ({cause}). ";
        string advice;
        if (id is null)
        {
            advice = $"TorchSharp 0.107.0 has no libtorch for {platform}: training runs on Linux x64, Windows x64 or arm64, and macOS arm64. ";
        }
        else if (os == OSPlatform.Linux)
        {
            advice = $"On {platform} libtorch comes with Microsoft.ML.Kare.Trainers as the package {id}, version {Version}: check that it was restored " +
                $"and that its files are in the application's output folder (runtimes/{platform}/native)." +
                (libTorchSharpNote is null ? " " : $" libLibTorchSharp.so: {libTorchSharpNote}. ");
        }
        else
        {
            advice = $"Add the package {id}, version {Version}, to the application (dotnet add package {id} --version {Version}): " +
                "NuGet has no per-platform dependencies, so Microsoft.ML.Kare.Trainers brings libtorch for linux-x64 only. ";
        }
        return start + advice + "Scoring a saved model needs no libtorch: an application that only scores can reference Microsoft.ML.Kare alone.";
    }

    private static Exception Innermost(Exception error)
    {
        while (error.InnerException is not null)
            error = error.InnerException;
        return error;
    }

    private static string FirstLine(string message)
        => message.Split('\n').Select(line => line.Trim()).FirstOrDefault(line => line.Length > 0) ?? "";
}
