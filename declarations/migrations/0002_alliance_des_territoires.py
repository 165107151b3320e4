"""Load the declaration of 25 May 2020, verbatim.

The source is declarations/texts/alliance-des-territoires-2020-05-25.md; the
strings below are that text cut into the model's fields, typos included
("europpéen"), and tests/declarations/test_migration.py checks them against it.
Runs forward only once: a declaration with this slug is left as staff edited it.
"""

import datetime

from django.db import migrations

SLUG = "alliance-des-territoires"

NETWORKS = [
    {
        "slug": "anpp",
        "short_name": "ANPP",
        "name": "ANPP – Territoires de projet",
        "description": "Association nationale des pôles territoriaux et des pays",
        "position": 1,
    },
    {
        "slug": "france-urbaine",
        "short_name": "France urbaine",
        "name": "France urbaine",
        "description": "Métropoles, grandes villes, communautés urbaines et d'agglomération",
        "position": 2,
    },
    {
        "slug": "red",
        "short_name": "R.E.D.",
        "name": "R.E.D. – Ruralité-Environnement-Développement",
        "description": "Ruralité-Environnement-Développement",
        "position": 3,
    },
]

TITLE = "Saisissons l'opportunité d'une nouvelle étape de la coopération interterritoriale"
SUBTITLE = "L'Alliance des territoires au service de la relance"
LEAD = (
    "Les territoires de projet urbains, ruraux et périurbains, affirment que la relance "
    "passera par le renforcement des approches territoriales de développement local et des "
    "coopérations interterritoriales. La crise sanitaire planétaire actuelle crée l'urgence "
    "à agir collectivement dans un contexte de transitions sociale, écologique, numérique "
    "et économique."
)
BODY = "\n\n".join(
    [
        "Le confinement lié à la pandémie a montré avec espoir que les acteurs et "
        "organisations savent coopérer dans les territoires. Ces coopérations locales ont "
        "permis de trouver des solutions solidaires innovantes dans le développement de "
        "services de santé et de proximité ou encore le déploiement de productions "
        "alimentaires et manufacturières de première nécessité.",
        "Cependant, tous les acteurs et organisations des territoires, qui tissent "
        "localement le lien social et l'économie solidaire, sont sévèrement impactés par la "
        "crise sanitaire.",
        "Pour répondre à cette crise et soutenir ces initiatives, il faut miser sur **des "
        "dynamiques contractuelles intégrées et ascendantes**, et des **coopérations "
        "interterritoriales équilibrées et renforcées** (urbains, ruraux et périurbains), "
        "sur la base d'un projet de territoire partagé.",
        "Nos territoires interagissent déjà avec efficacité ! Ils proposent au quotidien des "
        "offres indispensables à la qualité de la vie et à leur attractivité, que ce soit en "
        "termes de services de proximité, de santé, de mobilité, d'inclusion numérique, de "
        "logement, de formation, d'alimentation, de cohésion sociale ou de médiation "
        "culturelle.",
        "Le confinement a mis en évidence les opportunités du télétravail et les enjeux "
        "alimentaires et a ravivé chez les citoyens le désir de campagne. Il a également mis "
        "en lumière la capacité des territoires urbains à organiser de nouvelles réponses "
        "face à la crise et à construire la résilience en lien avec les territoires voisins "
        "(circuits-courts, alimentation, coopération sanitaire). Cette complémentarité milite "
        "pour un renforcement des coopérations interterritoriales et des stratégies "
        "collaboratives expérimentées.",
    ]
)

DEMAND_GROUPS = [
    (
        "L'ANPP, France urbaine et R.E.D. appellent, au service de la cohésion de nos "
        "territoires, à un plan de relance ambitieux, tant national qu'europpéen qui devra "
        "s'appuyer sur :",
        [
            (
                "des coopérations intelligentes renforcées au service de l'Alliance des "
                "territoires,",
                "**des coopérations intelligentes renforcées au service de l'Alliance des "
                "territoires,** concrétisant la reconnaissance mutuelle de la spécificité et "
                "de la valeur ajoutée des territoires de projets urbains, ruraux et "
                "péri-urbain ;",
            ),
            (
                "le renforcement de contractualisations pluriannuelles intégrées sur la base "
                "d'un projet de territoire partagé",
                "**le renforcement de contractualisations pluriannuelles intégrées sur la "
                "base d'un projet de territoire partagé** selon la philosophie des contrats "
                "métropolitains intégrés existants dans certaines régions ou des expériences "
                "de développement local mené par les acteurs locaux en milieu rural ;",
            ),
            (
                "l'intensification des partenariats entre les collectivités locales et les "
                "acteurs privés des territoires",
                "**l'intensification des partenariats entre les collectivités locales et les "
                "acteurs privés des territoires** pour stimuler un développement intégré et "
                "équilibré des territoires, notamment par une simplification des normes "
                "juridiques.",
            ),
        ],
    ),
    (
        "Pour atteindre ces objectifs, l'ANPP, France urbaine et R.E.D. attendent une "
        "réponse forte des autorités nationales par :",
        [
            (
                "consolidation de l'Agenda rural français",
                "la **consolidation de l'Agenda rural français**, en renforçant, au-delà des "
                "mesures opérationnelles, sa dimension politique et stratégique, tout en se "
                "mobilisant en faveur de l'Agenda rural européen ;",
            ),
            (
                "reconnaissance du fait urbain",
                "la **reconnaissance du fait urbain** dans l'ensemble des grands exercices "
                "contractuels, qu'ils soient européens, nationaux et régionaux, qui "
                "participeront à la relance afin que la transition écologique et sociale soit "
                "au cœur de la mobilisation collective.",
            ),
        ],
    ),
]

FOUNDERS = [
    ("Raymond VALL", "Président de l'ANPP\nSénateur du Gers", "anpp"),
    (
        "Jean-Luc MOUDENC",
        "Président de France urbaine\nPrésident de Toulouse Métropole",
        "france-urbaine",
    ),
    ("Gérard PELTRE", "Président de R.E.D.\nPrésident du M.E.R.", "red"),
]


def load_declaration(apps, schema_editor):
    Network = apps.get_model("declarations", "Network")
    Declaration = apps.get_model("declarations", "Declaration")
    networks = {}
    for data in NETWORKS:
        networks[data["slug"]], _ = Network.objects.get_or_create(slug=data["slug"], defaults=data)
    if Declaration.objects.filter(slug=SLUG).exists():
        return
    declaration = Declaration.objects.create(
        slug=SLUG,
        title=TITLE,
        subtitle=SUBTITLE,
        lead=LEAD,
        body=BODY,
        date=datetime.date(2020, 5, 25),
        is_current=True,
        is_open=True,
        moderation="pre",
    )
    declaration.initiators.set(networks.values())
    for group_position, (lead_in, demands) in enumerate(DEMAND_GROUPS, start=1):
        group = declaration.demand_groups.create(position=group_position, lead_in=lead_in)
        for position, (heading, text) in enumerate(demands, start=1):
            group.demands.create(position=position, heading=heading, text=text)
    for position, (name, functions, network_slug) in enumerate(FOUNDERS, start=1):
        declaration.founders.create(
            position=position, name=name, functions=functions, network=networks[network_slug]
        )


class Migration(migrations.Migration):
    dependencies = [("declarations", "0001_initial")]

    operations = [migrations.RunPython(load_declaration, migrations.RunPython.noop)]
