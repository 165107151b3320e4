import datetime

import factory

from declarations.models import Declaration, Demand, DemandGroup, Founder, Network


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"reseau-{n}")
    short_name = factory.Sequence(lambda n: f"R{n}")
    name = factory.LazyAttribute(lambda o: f"Réseau {o.short_name}")


class DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Declaration

    slug = factory.Sequence(lambda n: f"declaration-{n}")
    title = factory.Sequence(lambda n: f"Déclaration numéro {n}")
    subtitle = "Pour la coopération"
    lead = "Un chapeau."
    body = "Premier paragraphe avec **du gras**.\n\nSecond paragraphe."
    date = datetime.date(2024, 1, 15)
    is_open = True
    moderation = Declaration.Moderation.PRE


class DemandGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandGroup

    declaration = factory.SubFactory(DeclarationFactory)
    lead_in = "Nous demandons :"


class DemandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Demand

    group = factory.SubFactory(DemandGroupFactory)
    heading = "une demande"
    text = factory.LazyAttribute(lambda o: f"**{o.heading}** et sa suite ;")


class FounderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Founder

    declaration = factory.SubFactory(DeclarationFactory)
    name = "Camille MARTIN"
    functions = "Présidente du réseau\nMaire de Quelquepart"
