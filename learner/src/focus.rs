//! One resource's part of a model, for views that show a single resource
//! (`venomqa model show --resource NAME`, in every format).

use std::collections::BTreeSet;

use crate::model::{Model, Resource};

impl Model {
    /// The model cut down to one resource (named as the model names it, or
    /// by its collection path): its actions, the links into them, its state
    /// machine, its children and the roles' actions among them. Journeys
    /// span resources and are left out. `None` when there is no such
    /// resource.
    pub fn resource_view(&self, name: &str) -> Option<Model> {
        let resource = self.resources.iter().find(|r| r.name == name || r.collection == name)?;
        let children: Vec<_> =
            self.children.iter().filter(|c| c.parent == resource.name).cloned().collect();
        let mut kept = actions_of(resource);
        kept.extend(children.iter().map(|c| c.create.clone()));
        let keep = |id: &String| kept.contains(id);
        let mut view = self.clone();
        view.actions.retain(|a| keep(&a.id));
        view.resources = vec![resource.clone()];
        view.links.retain(|l| keep(&l.consumer));
        view.machines.retain(|m| m.resource == resource.name);
        view.journeys.clear();
        view.volatile.retain(|v| keep(&v.action));
        view.singletons.clear();
        view.children = children;
        for role in &mut view.roles {
            role.only.retain(keep);
        }
        Some(view)
    }

    /// The names `resource_view` accepts, for an error that lists them.
    pub fn resource_names(&self) -> Vec<&str> {
        self.resources.iter().map(|r| r.name.as_str()).collect()
    }
}

/// Every action a resource lists.
fn actions_of(r: &Resource) -> BTreeSet<String> {
    let lists = [&r.read, &r.update, &r.delete, &r.other];
    r.create.iter().chain(lists.into_iter().flatten()).cloned().collect()
}
