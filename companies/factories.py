"""Factories that build valid object graphs: one tenant per call unless given."""

from datetime import timedelta

import factory
from django.utils import timezone

from companies.models import Attendance, Company, User


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = User.Role.MEMBER
    password = factory.django.Password("password")


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    user = factory.SubFactory(UserFactory)
    company = factory.SelfAttribute("user.company")
    # Each attendance on its own past day (an 8-hour workday ending at least a
    # day ago), so several for one user never overlap (the PostgreSQL
    # exclusion constraint would refuse them) and none is still open.
    check_in = factory.Sequence(lambda n: timezone.now() - timedelta(days=n + 1, hours=8))
    check_out = factory.LazyAttribute(lambda o: o.check_in + timedelta(hours=8))
