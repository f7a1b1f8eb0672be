using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>Helpers of the build and packaging tests: where things are, hashing, and running the dotnet CLI.</summary>
internal static class BuildTestSupport
{
    /// <summary>The copy of libLibTorchSharp.so in this test project's output, or null when there is none.</summary>
    public static string? OutputLibTorchSharp()
    {
        string baseDirectory = AppContext.BaseDirectory;
        foreach (string candidate in new[]
                 {
                     Path.Combine(baseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
                     Path.Combine(baseDirectory, "libLibTorchSharp.so"),
                 })
        {
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The repository's root folder (recorded at build time, else found above the output or working folder).</summary>
    public static string RepositoryRoot()
    {
        string? recorded = typeof(BuildTestSupport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "KareRepositoryRoot")?.Value;
        var starts = new List<string>();
        if (!string.IsNullOrEmpty(recorded)) starts.Add(recorded);
        starts.Add(AppContext.BaseDirectory);
        starts.Add(Environment.CurrentDirectory);
        foreach (string start in starts)
        {
            for (DirectoryInfo? directory = new(start); directory != null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Microsoft.ML.Kare.sln"))) return directory.FullName;
            }
        }
        throw new InvalidOperationException("The repository root (the folder of Microsoft.ML.Kare.sln) was not found.");
    }

    /// <summary>The global packages folder as NUGET_PACKAGES or the default location gives it (not a NuGet.config setting).</summary>
    public static string DefaultGlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>The package's own libLibTorchSharp.so (of the TorchSharp version this project uses) in a packages folder, or null.</summary>
    public static string? PackageCacheLibTorchSharp(string packagesFolder)
    {
        Version? version = typeof(TorchSharp.torch).Assembly.GetName().Version;
        if (version == null) return null;
        string path = Path.Combine(packagesFolder, "torchsharp", $"{version.Major}.{version.Minor}.{version.Build}",
            "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    public static string Sha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    /// <summary>The dotnet executable that runs this process's tests (or the one on PATH).</summary>
    public static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? processPath = Environment.ProcessPath;
        if (processPath != null && Path.GetFileNameWithoutExtension(processPath) == "dotnet") return processPath;
        return "dotnet";
    }

    /// <summary>The result of a finished child process.</summary>
    public sealed record ProcessResult(int ExitCode, string Output, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit code {ExitCode} after {Elapsed.TotalSeconds:F1} s:\n{Output}";
    }

    /// <summary>
    /// Runs a program with an environment cleaned of the MSBuild variables a test host inherits from `dotnet test`,
    /// with build servers and node reuse off (nothing is left running), stdout and stderr merged.
    /// </summary>
    public static ProcessResult Run(string fileName, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (string key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) ||
                key.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(key);
            }
        }
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        if (environment != null)
        {
            foreach (KeyValuePair<string, string> pair in environment) start.Environment[pair.Key] = pair.Value;
        }

        var output = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) output.AppendLine($"[killed after {timeout.TotalSeconds:F0} s]");
            return new ProcessResult(-1, output.ToString(), watch.Elapsed);
        }
        process.WaitForExit();
        lock (output) return new ProcessResult(process.ExitCode, output.ToString(), watch.Elapsed);
    }

    /// <summary>Copies a folder tree, leaving out bin/ and obj/ folders.</summary>
    public static void CopySources(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string directory in Directory.GetDirectories(from))
        {
            string name = Path.GetFileName(directory);
            if (name is "bin" or "obj") continue;
            CopySources(directory, Path.Combine(to, name));
        }
    }
}
