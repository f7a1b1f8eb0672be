using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security;
using Microsoft.ML.Kare.Build;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>
/// Packs Microsoft.ML.Kare (scoring) and Microsoft.ML.Kare.Trainers into a local feed and builds, runs and publishes
/// tests/PackageConsumer against them: the trainers package's build logic must make TorchSharp load in an application
/// that knows nothing of this repository.
/// </summary>
[TestClass]
public sealed class PackageConsumerTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [TestCategory("Integration")]
    public void ApplicationReferencingThePackageLoadsTorchSharp()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("The package consumer test runs on Linux (the package's native runtime is linux-x64).");
        string root = BuildTestSupport.RepositoryRoot();
        string dotnet = BuildTestSupport.DotnetHost();
        string work = Directory.CreateTempSubdirectory("kare-consumer-").FullName;
        try
        {
            // A version no cache can already hold, restored into a packages folder of its own.
            string version = $"0.1.0-consumertest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Guid.NewGuid().ToString("N")[..8]}";
            string feed = Path.Combine(work, "feed");
            string consumer = Path.Combine(work, "consumer");
            string packages = Path.Combine(work, "packages");

            BuildTestSupport.ProcessResult locals = Step(dotnet, new[] { "nuget", "locals", "global-packages", "--list" }, root, null);
            string globalPackages = locals.Output.Split('\n')
                .Select(line => line.Trim())
                .Where(line => line.StartsWith("global-packages:", StringComparison.Ordinal))
                .Select(line => line["global-packages:".Length..].Trim())
                .First();

            // The trainers package depends on the scoring package of the same version: pack both.
            foreach (string packageId in new[] { "Microsoft.ML.Kare", "Microsoft.ML.Kare.Trainers" })
            {
                Step(dotnet, new[]
                {
                    "pack", Path.Combine(root, "src", packageId, packageId + ".csproj"),
                    "-c", "Release", "-o", feed, "-p:Version=" + version,
                    "--artifacts-path", Path.Combine(work, "pack-artifacts"), "--disable-build-servers",
                }, root, null);
                string package = Path.Combine(feed, $"{packageId}.{version}.nupkg");
                Assert.IsTrue(File.Exists(package), $"{package} was not produced.");
            }

            BuildTestSupport.CopySources(Path.Combine(root, "tests", "PackageConsumer"), consumer);
            // No <clear/>: the machine's configured sources stay, the local feed is added, and the machine's global
            // packages folder serves as a read-only fallback so that nothing already downloaded is fetched again.
            File.WriteAllText(Path.Combine(consumer, "NuGet.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="kare-consumer-test-feed" value="{SecurityElement.Escape(feed)}" />
                  </packageSources>
                  <fallbackPackageFolders>
                    <add key="machine-global-packages" value="{SecurityElement.Escape(globalPackages)}" />
                  </fallbackPackageFolders>
                </configuration>
                """);
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = packages };

            string? cachedLibrary = BuildTestSupport.PackageCacheLibTorchSharp(globalPackages);
            string? cachedHashBefore = cachedLibrary != null ? BuildTestSupport.Sha256(cachedLibrary) : null;

            string project = Path.Combine(consumer, "PackageConsumer.csproj");
            BuildTestSupport.ProcessResult build = Step(dotnet, new[]
            {
                "build", project, "-c", "Release", "-p:KarePackageVersion=" + version, "-v:n", "--disable-build-servers",
            }, consumer, environment);
            Assert.Contains("Microsoft.ML.Kare: ", build.Output, "The package's build step did not run.");
            Assert.IsTrue(Directory.Exists(Path.Combine(packages, "microsoft.ml.kare.trainers", version)), "The trainers package was not restored from the local feed.");
            Assert.IsTrue(Directory.Exists(Path.Combine(packages, "microsoft.ml.kare", version)), "The scoring package was not restored as the trainers' dependency.");

            // A second build finds the output up to date: no new copy, no new patch.
            BuildTestSupport.ProcessResult rebuild = Step(dotnet, new[]
            {
                "build", project, "-c", "Release", "-p:KarePackageVersion=" + version, "-v:n", "--disable-build-servers",
            }, consumer, environment);
            Assert.Contains("Microsoft.ML.Kare: ", rebuild.Output, "The package's build step did not run again.");
            Assert.DoesNotContain("marked weak", rebuild.Output, "The second build patched again (not incremental).");

            string app = Path.Combine(consumer, "bin", "Release", "net10.0", "PackageConsumer.dll");
            AssertRunsTorchSharp(dotnet, app, consumer, environment);
            AssertPatchedWhereNeeded(Path.Combine(consumer, "bin", "Release", "net10.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));

            string publishDir = Path.Combine(work, "publish");
            Step(dotnet, new[]
            {
                "publish", project, "-c", "Release", "-p:KarePackageVersion=" + version, "-o", publishDir, "--disable-build-servers",
            }, consumer, environment);
            AssertRunsTorchSharp(dotnet, Path.Combine(publishDir, "PackageConsumer.dll"), consumer, environment);
            AssertPatchedWhereNeeded(Path.Combine(publishDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));

            if (cachedLibrary != null)
                Assert.AreEqual(cachedHashBefore, BuildTestSupport.Sha256(cachedLibrary), $"{cachedLibrary} was modified.");
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException e)
            {
                TestContext.WriteLine($"Could not delete {work}: {e.Message}");
            }
        }
    }

    private void AssertRunsTorchSharp(string dotnet, string app, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        BuildTestSupport.ProcessResult run = Step(dotnet, new[] { app }, workingDirectory, environment);
        Assert.Contains("PackageConsumer: TorchSharp computation OK", run.Output, run.ToString());
    }

    private static void AssertPatchedWhereNeeded(string library)
    {
        Assert.IsTrue(File.Exists(library), $"{library} is missing.");
        string? system = KareElfVersionPatch.FindSystemLibrary(KareElfVersionPatch.DefaultProviderSoname);
        bool systemProvides = system != null && KareElfVersionPatch.DefinesVersion(system, KareElfVersionPatch.DefaultVersionName);
        byte[] image = File.ReadAllBytes(library);
        List<long>? offsets = KareElfVersionPatch.FindVersionNeedFlagOffsets(image, KareElfVersionPatch.DefaultVersionName);
        Assert.IsNotNull(offsets);
        Assert.HasCount(1, offsets);
        bool weak = (KareElfVersionPatch.ReadFlags(image, offsets)[0] & KareElfVersionPatch.VerFlagWeak) != 0;
        Assert.AreEqual(!systemProvides, weak, library);
    }

    private BuildTestSupport.ProcessResult Step(string fileName, string[] arguments, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment)
    {
        BuildTestSupport.ProcessResult result = BuildTestSupport.Run(fileName, arguments, workingDirectory, environment, StepTimeout);
        string command = Path.GetFileName(fileName) + " " + string.Join(" ", arguments.Take(2));
        TestContext.WriteLine($"{command}: exit code {result.ExitCode}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.AreEqual(0, result.ExitCode, $"{command} failed: {result}");
        return result;
    }
}
