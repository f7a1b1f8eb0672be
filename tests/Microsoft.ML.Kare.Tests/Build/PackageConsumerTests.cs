using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.ML.Kare.Build;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>
/// Packs Microsoft.ML.Kare (scoring) and Microsoft.ML.Kare.Trainers into a local feed (once for the class) and, for each
/// ML.NET version the packages support, builds and runs the two stand-alone consumers of tests/PackageConsumer against
/// it: Training/ (the trainers package) trains, saves and reloads a regression, a binary and a multiclass model, which
/// needs the package's build logic to make TorchSharp load; Scoring/ (the scoring package alone) is published, must
/// ship no TorchSharp or libtorch file, and scores the saved models in a fresh process as the training process did.
/// </summary>
[TestClass]
public sealed class PackageConsumerTests
{
    /// <summary>The ML.NET version the library is compiled against (KareMicrosoftMLBuildVersion, Directory.Packages.props).</summary>
    private const string BuildMicrosoftMLVersion = "5.0.1";

    /// <summary>The newest ML.NET version the packages are tested with, the upper end of their dependency range.</summary>
    private const string HighestMicrosoftMLVersion = "6.0.0";

    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    private static PackedFeed? feed;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Where the packages were packed to and restored from, shared by the class's tests.</summary>
    private sealed record PackedFeed(string Work, string Feed, string Version, string GlobalPackages, string Packages);

    [ClassInitialize]
    public static void PackIntoALocalFeed(TestContext context)
    {
        if (!OperatingSystem.IsLinux())
            return;
        string root = BuildTestSupport.RepositoryRoot();
        string dotnet = BuildTestSupport.DotnetHost();
        string work = Directory.CreateTempSubdirectory("kare-consumer-").FullName;
        // A version no cache can already hold, restored into a packages folder of its own.
        string version = $"0.1.0-consumertest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Guid.NewGuid().ToString("N")[..8]}";
        string directory = Path.Combine(work, "feed");

        BuildTestSupport.ProcessResult locals = Step(context, dotnet, new[] { "nuget", "locals", "global-packages", "--list" }, root, null);
        string globalPackages = locals.Output.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("global-packages:", StringComparison.Ordinal))
            .Select(line => line["global-packages:".Length..].Trim())
            .First();

        // The trainers package depends on the scoring package of the same version: pack both.
        foreach (string packageId in new[] { "Microsoft.ML.Kare", "Microsoft.ML.Kare.Trainers" })
        {
            BuildTestSupport.ProcessResult pack = Step(context, dotnet, new[]
            {
                "pack", Path.Combine(root, "src", packageId, packageId + ".csproj"),
                "-c", "Release", "-o", directory, "-p:Version=" + version,
                "--artifacts-path", Path.Combine(work, "pack-artifacts"), "--disable-build-servers",
            }, root, null);
            Assert.DoesNotContain(": warning ", pack.Output, $"dotnet pack {packageId} warned: {pack}");
            string package = Path.Combine(directory, $"{packageId}.{version}.nupkg");
            Assert.IsTrue(File.Exists(package), $"{package} was not produced.");
        }
        feed = new PackedFeed(work, directory, version, globalPackages, Path.Combine(work, "packages"));
    }

    [ClassCleanup]
    public static void DeleteTheFeed()
    {
        if (feed is null)
            return;
        try
        {
            Directory.Delete(feed.Work, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temporary folder.
        }
        feed = null;
    }

    /// <summary>
    /// Under <paramref name="mlnetVersion"/> (a direct Microsoft.ML reference of the training application): the trainers
    /// package restores without a version conflict, its build logic makes TorchSharp load, the application trains, saves
    /// and reloads the three tasks; the scoring-only application publishes without any torch file and scores the saved
    /// models as the training process did, without loading torch. Under the version the library is built against, the
    /// build logic is also checked in depth (incremental rebuild, publish of the training application).
    /// </summary>
    [TestMethod]
    [TestCategory("Integration")]
    [DataRow(BuildMicrosoftMLVersion)]
    [DataRow(HighestMicrosoftMLVersion)]
    public void PackagesTrainSaveAndScoreUnderMicrosoftML(string mlnetVersion)
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("The package consumer test runs on Linux (the package's native runtime is linux-x64).");
        Assert.IsNotNull(feed, "The packages were not packed.");
        bool inDepth = mlnetVersion == BuildMicrosoftMLVersion;
        string root = BuildTestSupport.RepositoryRoot();
        string dotnet = BuildTestSupport.DotnetHost();
        string consumer = Path.Combine(feed.Work, "consumer-" + mlnetVersion);
        string models = Path.Combine(feed.Work, "models-" + mlnetVersion);

        BuildTestSupport.CopySources(Path.Combine(root, "tests", "PackageConsumer"), consumer);
        // No <clear/>: the machine's configured sources stay, the local feed is added, and the machine's global
        // packages folder serves as a read-only fallback so that nothing already downloaded is fetched again.
        File.WriteAllText(Path.Combine(consumer, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="kare-consumer-test-feed" value="{SecurityElement.Escape(feed.Feed)}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine-global-packages" value="{SecurityElement.Escape(feed.GlobalPackages)}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = feed.Packages };
        string? cachedLibrary = BuildTestSupport.PackageCacheLibTorchSharp(feed.GlobalPackages);
        string? cachedHashBefore = cachedLibrary != null ? BuildTestSupport.Sha256(cachedLibrary) : null;
        string packageVersion = "-p:KarePackageVersion=" + feed.Version;
        string mlnetReference = "-p:KareMicrosoftMLVersion=" + mlnetVersion;

        // The training application, from the trainers package.
        string training = Path.Combine(consumer, "Training");
        string trainingProject = Path.Combine(training, "TrainingConsumer.csproj");
        string trainingOutput = Path.Combine(training, "bin", "Release", "net10.0");
        BuildTestSupport.ProcessResult build = Step(dotnet, new[]
        {
            "build", trainingProject, "-c", "Release", packageVersion, mlnetReference, "-v:n", "--disable-build-servers",
        }, training, environment);
        Assert.Contains("Microsoft.ML.Kare: ", build.Output, "The package's build step did not run.");
        AssertRestored(training, mlnetVersion);
        Assert.IsTrue(Directory.Exists(Path.Combine(feed.Packages, "microsoft.ml.kare.trainers", feed.Version)), "The trainers package was not restored from the local feed.");
        Assert.IsTrue(Directory.Exists(Path.Combine(feed.Packages, "microsoft.ml.kare", feed.Version)), "The scoring package was not restored as the trainers' dependency.");

        if (inDepth)
        {
            // A second build finds the output up to date: no new copy, no new patch.
            BuildTestSupport.ProcessResult rebuild = Step(dotnet, new[]
            {
                "build", trainingProject, "-c", "Release", packageVersion, mlnetReference, "-v:n", "--disable-build-servers",
            }, training, environment);
            Assert.Contains("Microsoft.ML.Kare: ", rebuild.Output, "The package's build step did not run again.");
            Assert.DoesNotContain("marked weak", rebuild.Output, "The second build patched again (not incremental).");
        }

        string outputLibrary = Path.Combine(trainingOutput, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        AssertTrains(dotnet, Path.Combine(trainingOutput, "TrainingConsumer.dll"), models, mlnetVersion, outputLibrary, training, environment);
        AssertPatchedWhereNeeded(outputLibrary);

        if (inDepth)
        {
            string trainingPublish = Path.Combine(feed.Work, "training-publish-" + mlnetVersion);
            Step(dotnet, new[]
            {
                "publish", trainingProject, "-c", "Release", packageVersion, mlnetReference, "-o", trainingPublish, "--disable-build-servers",
            }, training, environment);
            string publishedLibrary = Path.Combine(trainingPublish, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            AssertTrains(dotnet, Path.Combine(trainingPublish, "TrainingConsumer.dll"), models + "-published", mlnetVersion, publishedLibrary, training, environment);
            AssertPatchedWhereNeeded(publishedLibrary);
        }

        // The library's references into ML.NET resolve in the ML.NET the application runs with.
        (int checkedReferences, List<string> unresolved) = MicrosoftMLReferences.Check(trainingOutput, new[] { "Microsoft.ML.Kare", "Microsoft.ML.Kare.Trainers" });
        TestContext.WriteLine($"ML.NET {mlnetVersion}: {checkedReferences} references of the packaged assemblies into ML.NET checked, {unresolved.Count} unresolved");
        Assert.IsEmpty(unresolved, string.Join(Environment.NewLine, unresolved));

        // The scoring-only application, from the scoring package alone (ML.NET as its dependency under the version the
        // library is built against, a direct reference otherwise).
        string scoring = Path.Combine(consumer, "Scoring");
        string scoringPublish = Path.Combine(feed.Work, "scoring-publish-" + mlnetVersion);
        var publishArguments = new List<string>
        {
            "publish", Path.Combine(scoring, "ScoringConsumer.csproj"), "-c", "Release", packageVersion, "-o", scoringPublish, "--disable-build-servers",
        };
        if (!inDepth)
            publishArguments.Add(mlnetReference);
        Step(dotnet, publishArguments.ToArray(), scoring, environment);
        AssertRestored(scoring, mlnetVersion);
        string[] torchFiles = Directory.EnumerateFileSystemEntries(scoringPublish, "*", SearchOption.AllDirectories)
            .Where(path => Path.GetFileName(path).Contains("torch", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        Assert.IsEmpty(torchFiles, "The scoring-only publish folder holds torch files: " + string.Join(", ", torchFiles));
        Assert.IsTrue(File.Exists(Path.Combine(scoringPublish, "Microsoft.ML.Kare.dll")), "The scoring assembly was not published.");
        Assert.IsFalse(File.Exists(Path.Combine(scoringPublish, "Microsoft.ML.Kare.Trainers.dll")), "The trainers were published with the scoring-only application.");
        FileInfo[] published = new DirectoryInfo(scoringPublish).GetFiles("*", SearchOption.AllDirectories);
        TestContext.WriteLine($"Scoring-only publish folder (ML.NET {mlnetVersion}): {published.Length} files, {published.Sum(f => f.Length) / 1e6:F1} MB");

        BuildTestSupport.ProcessResult scored = Step(dotnet, new[] { Path.Combine(scoringPublish, "ScoringConsumer.dll"), models }, scoring, environment);
        Assert.Contains("ScoringConsumer: the three models score as in the training process, without torch, OK", scored.Output, scored.ToString());
        Assert.Contains($"Microsoft.ML {mlnetVersion}", scored.Output, scored.ToString());

        if (cachedLibrary != null)
            Assert.AreEqual(cachedHashBefore, BuildTestSupport.Sha256(cachedLibrary), $"{cachedLibrary} was modified.");
    }

    /// <summary>
    /// Both packages declare exactly the ML.NET versions this class tests as their Microsoft.ML range (an application on
    /// either restores without NU1608), and the trainers require the scoring package of their own version.
    /// </summary>
    [TestMethod]
    [TestCategory("Integration")]
    public void PackagesDeclareTheTestedMicrosoftMLRange()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("The packages are packed for the package consumer test, which runs on Linux.");
        Assert.IsNotNull(feed, "The packages were not packed.");
        foreach (string packageId in new[] { "Microsoft.ML.Kare", "Microsoft.ML.Kare.Trainers" })
        {
            Dictionary<string, string> dependencies = Dependencies(packageId);
            Assert.AreEqual($"[{BuildMicrosoftMLVersion}, {HighestMicrosoftMLVersion}]", dependencies.GetValueOrDefault("Microsoft.ML"), $"{packageId}'s Microsoft.ML range");
        }
    }

    /// <summary>
    /// Each package carries its metadata (description, tags, MIT licence expression, readme), its assembly's XML
    /// documentation, and the dependencies it needs: the trainers the scoring package of exactly their version (they
    /// use its internals), TorchSharp and linux-x64 libtorch; the scoring package no torch at all. No repository URL is
    /// declared: none is known to the project.
    /// </summary>
    [TestMethod]
    [TestCategory("Integration")]
    public void PackagesCarryTheirMetadataDocumentationAndDependencies()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("The packages are packed for the package consumer test, which runs on Linux.");
        Assert.IsNotNull(feed, "The packages were not packed.");
        foreach (string packageId in new[] { "Microsoft.ML.Kare", "Microsoft.ML.Kare.Trainers" })
        {
            XElement metadata = Nuspec(packageId).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string? Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
            Assert.AreEqual(feed.Version, Field("version"));
            Assert.IsGreaterThan(40, (Field("description") ?? "").Length, $"{packageId}: description");
            StringAssert.Contains(Field("tags") ?? "", "ML.NET", $"{packageId}: tags");
            XElement license = metadata.Elements().Single(e => e.Name.LocalName == "license");
            Assert.AreEqual("expression", (string?)license.Attribute("type"));
            Assert.AreEqual("MIT", license.Value);
            Assert.AreEqual("README.md", Field("readme"));
            Assert.IsNull(metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository")?.Attribute("url"), $"{packageId}: no repository URL is known");

            using ZipArchive package = ZipFile.OpenRead(Path.Combine(feed.Feed, $"{packageId}.{feed.Version}.nupkg"));
            string[] entries = package.Entries.Select(e => e.FullName).ToArray();
            CollectionAssert.IsSubsetOf(new[] { "README.md", $"lib/net10.0/{packageId}.dll", $"lib/net10.0/{packageId}.xml" }, entries, string.Join(", ", entries));
            using (var reader = new StreamReader(package.GetEntry("README.md")!.Open()))
                StringAssert.StartsWith(reader.ReadToEnd(), "# " + packageId + "\n", $"{packageId}: readme");
        }

        Dictionary<string, string> scoring = Dependencies("Microsoft.ML.Kare");
        CollectionAssert.AreEquivalent(new[] { "Microsoft.ML", "MathNet.Numerics" }, scoring.Keys.ToArray(), "the scoring package's dependencies");
        Dictionary<string, string> trainers = Dependencies("Microsoft.ML.Kare.Trainers");
        Assert.AreEqual($"[{feed.Version}]", trainers.GetValueOrDefault("Microsoft.ML.Kare"), "The trainers need exactly their own version of the scoring package.");
        Assert.AreEqual("0.107.0", trainers.GetValueOrDefault("TorchSharp"));
        Assert.AreEqual("2.10.0", trainers.GetValueOrDefault("libtorch-cpu-linux-x64"));
    }

    /// <summary>The dependencies (id → version range) that a packed package's nuspec declares.</summary>
    private static Dictionary<string, string> Dependencies(string packageId)
    {
        XDocument nuspec = Nuspec(packageId);
        return nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
    }

    private static XDocument Nuspec(string packageId)
    {
        using ZipArchive package = ZipFile.OpenRead(Path.Combine(feed!.Feed, $"{packageId}.{feed.Version}.nupkg"));
        using Stream stream = package.GetEntry(packageId + ".nuspec")!.Open();
        return XDocument.Load(stream);
    }

    /// <summary>
    /// The training application trains, saves and reloads the three tasks under the expected ML.NET, with TorchSharp's
    /// native library loaded from its own folder: the build logic made it loadable, the run-time fallback was not needed.
    /// </summary>
    private void AssertTrains(string dotnet, string app, string models, string mlnetVersion, string expectedLibrary,
        string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        BuildTestSupport.ProcessResult run = Step(dotnet, new[] { app, models }, workingDirectory, environment);
        Assert.Contains("TrainingConsumer: trained, saved and reloaded the three models OK", run.Output, run.ToString());
        Assert.Contains($"Microsoft.ML {mlnetVersion}", run.Output, run.ToString());
        Assert.Contains($"libLibTorchSharp: {expectedLibrary}{Environment.NewLine}", run.Output, run.ToString());
    }

    /// <summary>The project restored the ML.NET version asked for, and without a version conflict.</summary>
    private static void AssertRestored(string projectFolder, string mlnetVersion)
    {
        using JsonDocument assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(projectFolder, "obj", "project.assets.json")));
        string[] libraries = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToArray();
        CollectionAssert.Contains(libraries, $"Microsoft.ML/{mlnetVersion}", $"{projectFolder} did not restore Microsoft.ML {mlnetVersion}.");
        string[] codes = assets.RootElement.TryGetProperty("logs", out JsonElement logs)
            ? logs.EnumerateArray().Select(log => log.GetProperty("code").GetString() ?? "").ToArray()
            : Array.Empty<string>();
        CollectionAssert.DoesNotContain(codes, "NU1608", $"{projectFolder} restored a package outside a dependency's version range.");
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
        => Step(TestContext, fileName, arguments, workingDirectory, environment);

    private static BuildTestSupport.ProcessResult Step(TestContext context, string fileName, string[] arguments, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment)
    {
        BuildTestSupport.ProcessResult result = BuildTestSupport.Run(fileName, arguments, workingDirectory, environment, StepTimeout);
        string command = Path.GetFileName(fileName) + " " + string.Join(" ", arguments.Take(2).Select(Path.GetFileName));
        context.WriteLine($"{command}: exit code {result.ExitCode}, {result.Elapsed.TotalSeconds:F1} s");
        Assert.AreEqual(0, result.ExitCode, $"{command} failed: {result}");
        return result;
    }
}
