using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Mono.Cecil;

namespace Microsoft.ML.Kare.Tests.Build;

/// <summary>
/// Checks that the library's references into ML.NET (types, methods and fields, internal ones included: the library
/// is compiled against publicized copies of ML.NET) exist in the ML.NET assemblies an application runs with. A member
/// that an ML.NET release renamed, removed or changed the signature of is reported by name instead of failing at run
/// time, on the first call that reaches it, with MissingMethodException.
/// </summary>
internal static class MicrosoftMLReferences
{
    /// <summary>
    /// The references of <paramref name="assemblyNames"/> (found in <paramref name="directory"/>) into the ML.NET
    /// assemblies of that directory (Microsoft.ML*.dll other than the checked ones) that do not resolve there.
    /// </summary>
    public static (int Checked, List<string> Unresolved) Check(string directory, IReadOnlyCollection<string> assemblyNames)
    {
        var mlnet = new HashSet<string>(
            Directory.GetFiles(directory, "Microsoft.ML*.dll")
                .Select(path => Path.GetFileNameWithoutExtension(path))
                .Where(name => !assemblyNames.Contains(name)),
            StringComparer.Ordinal);
        if (mlnet.Count == 0)
            throw new InvalidOperationException($"No ML.NET assembly in {directory}.");

        using var resolver = new DefaultAssemblyResolver();
        foreach (string path in resolver.GetSearchDirectories())
            resolver.RemoveSearchDirectory(path);
        resolver.AddSearchDirectory(directory);
        resolver.AddSearchDirectory(Path.GetDirectoryName(typeof(object).Assembly.Location)!);

        int count = 0;
        var unresolved = new List<string>();
        foreach (string name in assemblyNames)
        {
            using ModuleDefinition module = ModuleDefinition.ReadModule(Path.Combine(directory, name + ".dll"),
                new ReaderParameters { AssemblyResolver = resolver });
            foreach (TypeReference type in module.GetTypeReferences())
            {
                if (!IsIn(type, mlnet))
                    continue;
                count++;
                if (TryResolve(type.Resolve) is null)
                    unresolved.Add($"{name}: type {type.FullName} [{((AssemblyNameReference)type.Scope).Name}]");
            }
            foreach (MemberReference member in module.GetMemberReferences())
            {
                if (!IsIn(member.DeclaringType.GetElementType(), mlnet))
                    continue;
                count++;
                IMemberDefinition? definition = member switch
                {
                    MethodReference method => TryResolve(method.Resolve),
                    FieldReference field => TryResolve(field.Resolve),
                    _ => null,
                };
                if (definition is null)
                    unresolved.Add($"{name}: member {member.FullName}");
            }
        }
        return (count, unresolved);
    }

    private static bool IsIn(TypeReference type, HashSet<string> assemblies)
        => type.Scope is AssemblyNameReference reference && assemblies.Contains(reference.Name);

    private static T? TryResolve<T>(Func<T> resolve) where T : class
    {
        try
        {
            return resolve();
        }
        catch (AssemblyResolutionException)
        {
            return null;
        }
    }
}
