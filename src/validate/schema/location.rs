//! Where schemas come from: the embedded set, or kubeconform-style templates.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use super::embedded;
use crate::manifest::Gvk;

/// A Kubernetes version as `--kubernetes-version` takes it: `1.35`, `1.35.0`, `v1.35.2`
/// or `master`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeVersion {
    Release { minor: u32, patch: Option<u32> },
    Master,
}

impl KubeVersion {
    /// The newest embedded version, the default.
    pub fn latest() -> KubeVersion {
        KubeVersion::Release {
            minor: *embedded::MINORS.end(),
            patch: None,
        }
    }

    /// The embedded schema set serving this version, if there is one.
    pub fn embedded_minor(self) -> Option<u32> {
        match self {
            KubeVersion::Release { minor, .. } => {
                embedded::MINORS.contains(&minor).then_some(minor)
            }
            KubeVersion::Master => Some(*embedded::MINORS.end()),
        }
    }

    /// kubeconform's `{{ .NormalizedKubernetesVersion }}`: `v1.35.0` or `master`.
    pub fn normalized(self) -> String {
        match self {
            KubeVersion::Release { minor, patch } => format!("v1.{minor}.{}", patch.unwrap_or(0)),
            KubeVersion::Master => "master".into(),
        }
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KubeVersion::Release { minor, patch: None } => write!(f, "1.{minor}"),
            KubeVersion::Release {
                minor,
                patch: Some(p),
            } => write!(f, "1.{minor}.{p}"),
            KubeVersion::Master => f.write_str("master"),
        }
    }
}

impl FromStr for KubeVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<KubeVersion, String> {
        if s == "master" {
            return Ok(KubeVersion::Master);
        }
        let bad = || format!("{s:?} is not a Kubernetes version; write it as 1.35 or 1.35.0");
        let digits = s.strip_prefix('v').unwrap_or(s);
        let mut parts = digits.split('.');
        let (Some("1"), Some(minor)) = (parts.next(), parts.next()) else {
            return Err(bad());
        };
        let minor = minor.parse().map_err(|_| bad())?;
        let patch = parts
            .next()
            .map(str::parse)
            .transpose()
            .map_err(|_| bad())?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(KubeVersion::Release { minor, patch })
    }
}

/// One `--schema-location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaLocation {
    /// The schemas compiled into kbundle (`default`).
    Embedded,
    /// A path or URL template with kubeconform's variables.
    Template(String),
}

impl FromStr for SchemaLocation {
    type Err = String;
    fn from_str(s: &str) -> Result<SchemaLocation, String> {
        if s == "default" {
            return Ok(SchemaLocation::Embedded);
        }
        if s.is_empty() {
            return Err("an empty schema location; give a path, a URL or `default`".into());
        }
        // Like kubeconform, a location that is not a file template names a folder laid out
        // like yannh/kubernetes-json-schema.
        let template = if s.ends_with(".json") || s.contains("{{") {
            s.to_owned()
        } else {
            format!(
                "{}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
                s.trim_end_matches('/')
            )
        };
        check_template(&template)?;
        Ok(SchemaLocation::Template(template))
    }
}

static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern, covered by tests
    Regex::new(r"\{\{-?\s*\.(\w+)\s*-?\}\}").unwrap()
});

const VARIABLES: [&str; 6] = [
    "NormalizedKubernetesVersion",
    "StrictSuffix",
    "ResourceKind",
    "ResourceAPIVersion",
    "Group",
    "KindSuffix",
];

fn check_template(template: &str) -> Result<(), String> {
    for cap in VARIABLE.captures_iter(template) {
        let name = &cap[1];
        if !VARIABLES.contains(&name) {
            return Err(format!(
                "unknown variable {{{{ .{name} }}}} in schema location {template:?}; known: {}",
                VARIABLES.join(", ")
            ));
        }
    }
    Ok(())
}

/// kubeconform's file name for a kind: `deployment-apps-v1`, `service-v1`.
pub fn kind_stem(gvk: &Gvk) -> String {
    format!("{}{}", gvk.kind.to_lowercase(), kind_suffix(gvk))
}

fn kind_suffix(gvk: &Gvk) -> String {
    if gvk.group.is_empty() {
        format!("-{}", gvk.version.to_lowercase())
    } else {
        let first = gvk.group.split('.').next().unwrap_or("");
        format!("-{}-{}", first.to_lowercase(), gvk.version.to_lowercase())
    }
}

/// Fills a template's variables, with kubeconform's meanings (including its quirk that
/// `Group` is the whole `apiVersion` for the core group).
pub fn render(template: &str, version: KubeVersion, strict: bool, gvk: &Gvk) -> String {
    VARIABLE
        .replace_all(template, |cap: &regex::Captures<'_>| match &cap[1] {
            "NormalizedKubernetesVersion" => version.normalized(),
            "StrictSuffix" => if strict { "-strict" } else { "" }.to_owned(),
            "ResourceKind" => gvk.kind.to_lowercase(),
            "ResourceAPIVersion" => gvk.version.clone(),
            "Group" => {
                if gvk.group.is_empty() {
                    gvk.version.clone()
                } else {
                    gvk.group.clone()
                }
            }
            "KindSuffix" => kind_suffix(gvk),
            _ => String::new(),
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_in_every_spelling() {
        let v: KubeVersion = "1.35".parse().unwrap();
        assert_eq!(v.normalized(), "v1.35.0");
        assert_eq!(
            "v1.35.2".parse::<KubeVersion>().unwrap().normalized(),
            "v1.35.2"
        );
        assert_eq!(
            "1.29".parse::<KubeVersion>().unwrap().embedded_minor(),
            None
        );
        assert!("two".parse::<KubeVersion>().is_err());
        assert!("1.35.0.1".parse::<KubeVersion>().is_err());
    }

    #[test]
    fn templates_use_kubeconform_variables() {
        let gvk = Gvk::new("apps/v1", "Deployment");
        let v = "1.33.1".parse().unwrap();
        let t = "s/{{ .NormalizedKubernetesVersion }}{{ .StrictSuffix }}/{{ .Group }}/{{.ResourceKind}}_{{ .ResourceAPIVersion }}{{ .KindSuffix }}.json";
        assert_eq!(
            render(t, v, true, &gvk),
            "s/v1.33.1-strict/apps/deployment_v1-apps-v1.json"
        );
        let core = Gvk::new("v1", "Service");
        assert_eq!(kind_stem(&core), "service-v1");
        assert_eq!(
            kind_stem(&Gvk::new("rbac.authorization.k8s.io/v1", "ClusterRole")),
            "clusterrole-rbac-v1"
        );
        let SchemaLocation::Template(folder) = "schemas/".parse().unwrap() else {
            panic!()
        };
        assert_eq!(
            render(&folder, v, false, &core),
            "schemas/v1.33.1-standalone/service-v1.json"
        );
        assert!("x/{{ .Nope }}.json".parse::<SchemaLocation>().is_err());
    }
}
