using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.ML.Kare.Tests.Build;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.Kare.Tests.Examples;

/// <summary>
/// The examples' consumption apps (<c>examples/*.Consume</c>) are scoring-only deployments: they reference the scoring
/// library src/Microsoft.ML.Kare and nothing of the trainers, so neither TorchSharp nor libtorch is in their
/// dependency graph.
/// </summary>
[TestClass]
public sealed class ConsumeExampleReferenceTests
{
    [TestMethod]
    [DataRow("Diabetes.Regression.Consume")]
    [DataRow("BreastCancer.Binary.Consume")]
    [DataRow("Wine.Multiclass.Consume")]
    public void ConsumeExampleReferencesOnlyTheScoringLibrary(string example)
    {
        string folder = Path.Combine(BuildTestSupport.RepositoryRoot(), "examples", example);
        XDocument project = XDocument.Load(Path.Combine(folder, example + ".csproj"));
        string[] projectReferences = project.Descendants("ProjectReference")
            .Select(r => Path.GetFullPath(Path.Combine(folder, (string)r.Attribute("Include")!)))
            .ToArray();
        string scoring = Path.Combine(BuildTestSupport.RepositoryRoot(), "src", "Microsoft.ML.Kare", "Microsoft.ML.Kare.csproj");
        CollectionAssert.AreEqual(new[] { Path.GetFullPath(scoring) }, projectReferences, $"{example} should reference src/Microsoft.ML.Kare only.");
        string[] packages = project.Descendants("PackageReference").Select(r => (string)r.Attribute("Include")!).ToArray();
        Assert.IsFalse(packages.Any(IsTorchOrTrainers), $"{example} references {string.Join(", ", packages)}.");

        // Once restored (the test command builds the solution first), the whole dependency graph is free of them too.
        string assets = Path.Combine(folder, "obj", "project.assets.json");
        if (!File.Exists(assets))
            return;
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(assets));
        string[] libraries = document.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name.Split('/')[0]).ToArray();
        CollectionAssert.Contains(libraries, "Microsoft.ML.Kare", $"{example}'s restore graph lacks the scoring library.");
        string[] unwanted = libraries.Where(IsTorchOrTrainers).ToArray();
        Assert.IsEmpty(unwanted, $"{example}'s restore graph holds {string.Join(", ", unwanted)}.");
    }

    private static bool IsTorchOrTrainers(string name)
        => name.Contains("torch", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Microsoft.ML.Kare.Trainers", StringComparison.OrdinalIgnoreCase);
}
